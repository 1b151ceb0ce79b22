/**
 * The reverse-mode driver: sort the nodes the loss depends on, walk them in
 * reverse, apply each op's row of GRADIENT_RULES, sum broadcast gradients
 * back to the input's shape (here, and only here), and accumulate several
 * contributions to one tensor with a single Sum.
 */
import type { NodeRecord, Value } from "../graph-builder.js";
import { GRADIENT_RULES, isNoGrad, type AutodiffOptions, type GradContext, type GradRow } from "./gradient-rules.js";
import { PRIMITIVE_OPS, type PrimitiveOp } from "./primitives.js";
import type { TypedGraph } from "./typed-graph.js";

const PRIMITIVES = new Set<string>(PRIMITIVE_OPS);

/** The nodes `target` depends on, producers before consumers (iterative DFS, so deep graphs do not overflow the stack). */
export function ancestorsInOrder(nodes: readonly NodeRecord[], target: string): NodeRecord[] {
  const producer = new Map<string, NodeRecord>();
  for (const n of nodes) for (const o of n.outputs) if (o !== "") producer.set(o, n);
  const order: NodeRecord[] = [];
  const state = new Map<NodeRecord, 1 | 2>(); // 1 = on the stack, 2 = done
  const start = producer.get(target);
  if (!start) return order;
  const stack: { node: NodeRecord; next: number }[] = [{ node: start, next: 0 }];
  state.set(start, 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.node.inputs.length) {
      const p = producer.get(top.node.inputs[top.next++]!);
      if (!p) continue;
      const s = state.get(p);
      if (s === 1) throw new Error(`autodiff: the graph has a cycle through ${p.opType} → ${p.outputs.join(", ")}`);
      if (s === undefined) {
        state.set(p, 1);
        stack.push({ node: p, next: 0 });
      }
    } else {
      state.set(top.node, 2);
      order.push(top.node);
      stack.pop();
    }
  }
  return order;
}

/** Sums `g` over the axes it was broadcast along so it takes `target`'s shape. */
function reduceToShape(t: TypedGraph, g: Value, target: readonly number[], what: string): Value {
  const gs = t.shape(g);
  if (gs.length === target.length && gs.every((d, i) => d === target[i])) return g;
  const lead = gs.length - target.length;
  const axes: number[] = [];
  gs.forEach((d, i) => {
    const want = i < lead ? 1 : target[i - lead]!;
    if (i < lead || (want === 1 && d !== 1)) axes.push(i);
    else if (want !== d) throw new Error(`autodiff: gradient for ${what} has shape [${gs}], which does not reduce to [${target}]`);
  });
  if (lead < 0) throw new Error(`autodiff: gradient for ${what} has shape [${gs}], lower rank than [${target}]`);
  let r = axes.length > 0 ? t.op("ReduceSum", [g, t.int64s(axes)], { keepdims: 1 }) : g;
  if (lead > 0) r = t.op("Reshape", [r, t.int64s(target)]);
  return r;
}

function accumulate(t: TypedGraph, parts: Value[]): Value {
  return parts.length === 1 ? parts[0]! : t.op("Sum", parts);
}

/**
 * Appends to `t` the nodes computing ∂loss/∂w for each name in `wrt`, and
 * returns them by name. A parameter the loss does not depend on gets zeros.
 * Types of the forward nodes are inferred here, in topological order.
 */
export function appendGradients(t: TypedGraph, loss: Value, wrt: readonly string[], options: AutodiffOptions = {}): Map<string, Value> {
  const opts: Required<AutodiffOptions> = { convWeightGrad: options.convWeightGrad ?? "auto", convInputGrad: options.convInputGrad ?? "auto" };
  const order = ancestorsInOrder(t.g.nodes, loss.name);
  for (const w of wrt) if (!t.has(w)) throw new Error(`autodiff: parameter '${w}' is not a tensor of the graph`);

  // Forward: which tensors depend on a parameter. Every such node needs a rule.
  const live = new Set<string>(wrt);
  for (const n of order) {
    if (!n.inputs.some((i) => live.has(i))) continue;
    if (!PRIMITIVES.has(n.opType)) throw new Error(`autodiff: no gradient rule for op '${n.opType}' (output ${n.outputs[0]}); build it from the primitives in src/onnx/autodiff/primitives.ts`);
    for (const o of n.outputs) live.add(o);
  }
  for (const n of order) t.record(n);

  const lossType = t.type(loss);
  if (lossType.shape.reduce((a, b) => a * b, 1) !== 1) throw new Error(`autodiff: the loss must hold one value, its shape is [${lossType.shape}]`);
  const dtype = lossType.dtype;

  const grads = new Map<string, Value[]>();
  const add = (name: string, g: Value) => {
    const list = grads.get(name);
    if (list) list.push(g);
    else grads.set(name, [g]);
  };
  add(loss.name, t.op("Expand", [t.scalar(1, dtype), t.int64s(lossType.shape)]));

  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const parts = grads.get(node.outputs[0]!);
    const needed = node.inputs.map((name) => name !== "" && live.has(name));
    if (!parts || !needed.some(Boolean)) continue;
    if (node.outputs.slice(1).some((o) => grads.has(o))) throw new Error(`autodiff: ${node.opType}: gradients of outputs after the first are not supported`);
    const row: GradRow = GRADIENT_RULES[node.opType as PrimitiveOp];
    const dy = accumulate(t, parts);
    const ctx: GradContext = {
      t,
      node,
      x: (k) => ({ name: node.inputs[k]! }),
      y: { name: node.outputs[0]! },
      dy,
      dtype,
      options: opts,
      constant: (k) => {
        const v = t.constantOf(node.inputs[k] ?? "");
        if (!v) throw new Error(`autodiff: ${node.opType} input ${k} must be a constant initializer`);
        return v;
      },
    };
    node.inputs.forEach((name, k) => {
      if (!needed[k]) return;
      let g: Value;
      if (!("variadic" in row)) {
        const slot = row[k];
        if (slot === undefined || isNoGrad(slot)) {
          const why = slot === undefined ? "no such input in the rule" : slot.none;
          throw new Error(`autodiff: ${node.opType} input ${k} ('${name}') has no gradient (${why}) but depends on a parameter`);
        }
        g = slot(ctx);
      } else {
        g = row.variadic(ctx, k);
      }
      add(name, reduceToShape(t, g, t.shape(name), `${node.opType} input ${k} ('${name}')`));
    });
  }

  const out = new Map<string, Value>();
  for (const w of wrt) {
    const parts = grads.get(w);
    out.set(w, parts ? accumulate(t, parts) : t.zeros(t.shape(w), t.type(w).dtype));
  }
  return out;
}
