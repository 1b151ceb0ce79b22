/**
 * Static shape (and element type) inference for the ops autodiff reads or
 * emits. Autodiff needs every shape at build time: a broadcast gradient is
 * summed back to its input's shape, a ConvTranspose needs its output_padding,
 * a Reshape back needs the original shape. All dimensions must be concrete
 * numbers; a symbolic dimension fails here with the tensor's name.
 *
 * Only what opset 17 specifies is handled (ReduceMean takes `axes` as an
 * attribute, ReduceSum as an input); anything else fails loudly naming the op.
 */
import { DataType, type AttrValue, type NodeRecord } from "../graph-builder.js";
import type { TensorProto } from "../../gen/onnx/onnx_pb.js";

export interface TensorType {
  readonly dtype: DataType;
  readonly shape: readonly number[];
}

/** What a shape function may look at: input types and constant input values. */
export interface InferContext {
  readonly node: NodeRecord;
  /** Type of input k (throws if the input is omitted). */
  type(k: number): TensorType;
  /** Whether input k is present. */
  has(k: number): boolean;
  /** The values of input k, which must be a build-time constant. */
  constant(k: number): number[];
}

type ShapeFn = (c: InferContext) => TensorType[];

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Numpy broadcasting of several shapes; throws on incompatible dims. */
export function broadcastShapes(what: string, ...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) throw new Error(`${what}: shapes ${shapes.map((x) => `[${x.join(",")}]`).join(" and ")} do not broadcast`);
      d = e;
    }
    out.push(d);
  }
  return out;
}

// ---- attribute helpers -------------------------------------------------------

export function intAttr(n: NodeRecord, key: string, dflt: number): number {
  const v = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== "number") throw new Error(`${n.opType}: attribute '${key}' must be an int`);
  return v;
}

export function intsAttr(n: NodeRecord, key: string): number[] | undefined {
  const v = n.attrs[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number")) throw new Error(`${n.opType}: attribute '${key}' must be ints`);
  return v as number[];
}

export function strAttr(n: NodeRecord, key: string, dflt: string): string {
  const v = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== "string") throw new Error(`${n.opType}: attribute '${key}' must be a string`);
  return v;
}

export function floatAttr(n: NodeRecord, key: string, dflt: number): number {
  const v: AttrValue | undefined = n.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v === "number") return v;
  // FLOAT attributes are float32 on the wire; use the value the runtime will see.
  if (typeof v === "object" && "float" in v) return Math.fround(v.float);
  throw new Error(`${n.opType}: attribute '${key}' must be a float`);
}

const normAxis = (a: number, rank: number, op: string): number => {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) throw new Error(`${op}: axis ${a} out of range for rank ${rank}`);
  return r;
};
export { normAxis };

// ---- geometry shared with the gradient rules ---------------------------------

/** Conv/ConvTranspose attributes with ONNX defaults filled in (explicit pads only). */
export interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [b0, b1, ..., e0, e1, ...] as in ONNX. */
  pads: number[];
  group: number;
}

export function convGeometry(n: NodeRecord, weightShape: readonly number[]): ConvGeometry {
  const autoPad = strAttr(n, "auto_pad", "NOTSET");
  if (autoPad !== "NOTSET") throw new Error(`${n.opType}: auto_pad=${autoPad} is not supported; give explicit pads`);
  const sp = weightShape.length - 2;
  const kernel = intsAttr(n, "kernel_shape") ?? weightShape.slice(2);
  return {
    kernel,
    strides: intsAttr(n, "strides") ?? new Array<number>(sp).fill(1),
    dilations: intsAttr(n, "dilations") ?? new Array<number>(sp).fill(1),
    pads: intsAttr(n, "pads") ?? new Array<number>(2 * sp).fill(0),
    group: intAttr(n, "group", 1),
  };
}

/** Slice parameters normalized per the ONNX spec: per-axis start, step and count. */
export interface SliceAxis {
  start: number;
  step: number;
  count: number;
}

export function sliceAxes(shape: readonly number[], starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): SliceAxis[] {
  const out: SliceAxis[] = shape.map((d) => ({ start: 0, step: 1, count: d }));
  starts.forEach((s0, i) => {
    const ax = normAxis(axes?.[i] ?? i, shape.length, "Slice");
    const dim = shape[ax]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw new Error("Slice: step 0");
    let s = s0 < 0 ? s0 + dim : s0;
    let e = ends[i]! < 0 ? ends[i]! + dim : ends[i]!;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      out[ax] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      out[ax] = { start: s, step, count: Math.max(0, Math.ceil((e - s) / step)) };
    }
  });
  return out;
}

/** Integer per-axis scale factors of a Resize, from its constant scales or sizes input. */
export function resizeScales(c: InferContext): number[] {
  const x = c.type(0).shape;
  if (c.has(3)) {
    const sizes = c.constant(3);
    return sizes.map((s, i) => s / x[i]!);
  }
  return c.constant(2);
}

// ---- the shape functions -----------------------------------------------------

const same: ShapeFn = (c) => [c.type(0)];

const broadcast: ShapeFn = (c) => {
  const shapes: (readonly number[])[] = [];
  for (let k = 0; k < c.node.inputs.length; k++) shapes.push(c.type(k).shape);
  return [{ dtype: c.type(0).dtype, shape: broadcastShapes(c.node.opType, ...shapes) }];
};

function reduceShape(shape: readonly number[], axes: number[] | undefined, keep: boolean, op: string): number[] {
  const set = new Set((axes === undefined || axes.length === 0 ? shape.map((_, i) => i) : axes).map((a) => normAxis(a, shape.length, op)));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

const SHAPES: Record<string, ShapeFn> = {
  Identity: same,
  Neg: same,
  Sqrt: same,
  Exp: same,
  Log: same,
  Sigmoid: same,
  Tanh: same,
  Reciprocal: same,
  Add: broadcast,
  Sub: broadcast,
  Mul: broadcast,
  Div: broadcast,
  Pow: broadcast,
  Sum: broadcast,
  Expand: (c) => [{ dtype: c.type(0).dtype, shape: broadcastShapes("Expand", c.type(0).shape, c.constant(1)) }],
  Cast: (c) => [{ dtype: intAttr(c.node, "to", DataType.FLOAT) as DataType, shape: c.type(0).shape }],
  ConstantOfShape: (c) => {
    const v = c.node.attrs.value as TensorProto | undefined;
    return [{ dtype: v?.dataType ?? DataType.FLOAT, shape: c.constant(0) }];
  },
  Conv: (c) => {
    const x = c.type(0).shape;
    const w = c.type(1).shape;
    const g = convGeometry(c.node, w);
    const sp = x.length - 2;
    if (x[1] !== w[1]! * g.group) throw new Error(`Conv: input has ${x[1]} channels, weight expects ${w[1]}×group ${g.group}`);
    const out = [x[0]!, w[0]!];
    for (let i = 0; i < sp; i++) {
      const span = (g.kernel[i]! - 1) * g.dilations[i]! + 1;
      out.push(Math.floor((x[i + 2]! + g.pads[i]! + g.pads[i + sp]! - span) / g.strides[i]!) + 1);
    }
    return [{ dtype: c.type(0).dtype, shape: out }];
  },
  ConvTranspose: (c) => {
    const x = c.type(0).shape;
    const w = c.type(1).shape;
    const g = convGeometry(c.node, w);
    if (c.node.attrs.output_shape !== undefined) throw new Error("ConvTranspose: output_shape is not supported; use pads and output_padding");
    const sp = x.length - 2;
    const op = intsAttr(c.node, "output_padding") ?? new Array<number>(sp).fill(0);
    const out = [x[0]!, w[1]! * g.group];
    for (let i = 0; i < sp; i++) {
      const span = (g.kernel[i]! - 1) * g.dilations[i]! + 1;
      out.push(g.strides[i]! * (x[i + 2]! - 1) + op[i]! + span - g.pads[i]! - g.pads[i + sp]!);
    }
    return [{ dtype: c.type(0).dtype, shape: out }];
  },
  MatMul: (c) => {
    const a = c.type(0).shape;
    const b = c.type(1).shape;
    if (a.length < 2 || b.length < 2) throw new Error(`MatMul: 1-D operands are not supported (shapes [${a}] and [${b}])`);
    if (a[a.length - 1] !== b[b.length - 2]) throw new Error(`MatMul: inner dims differ, [${a}] × [${b}]`);
    const batch = broadcastShapes("MatMul", a.slice(0, -2), b.slice(0, -2));
    return [{ dtype: c.type(0).dtype, shape: [...batch, a[a.length - 2]!, b[b.length - 1]!] }];
  },
  Gemm: (c) => {
    const a = c.type(0).shape;
    const b = c.type(1).shape;
    const m = intAttr(c.node, "transA", 0) ? a[1]! : a[0]!;
    const n = intAttr(c.node, "transB", 0) ? b[0]! : b[1]!;
    return [{ dtype: c.type(0).dtype, shape: [m, n] }];
  },
  ReduceMean: (c) => {
    if (c.has(1)) throw new Error("ReduceMean: axes as an input is opset 18; this graph is opset 17 (axes attribute)");
    return [{ dtype: c.type(0).dtype, shape: reduceShape(c.type(0).shape, intsAttr(c.node, "axes"), intAttr(c.node, "keepdims", 1) === 1, "ReduceMean") }];
  },
  ReduceSum: (c) => {
    const axes = c.has(1) ? c.constant(1) : undefined;
    const x = c.type(0);
    if ((axes === undefined || axes.length === 0) && intAttr(c.node, "noop_with_empty_axes", 0) === 1) return [x];
    return [{ dtype: x.dtype, shape: reduceShape(x.shape, axes, intAttr(c.node, "keepdims", 1) === 1, "ReduceSum") }];
  },
  Reshape: (c) => {
    const x = c.type(0).shape;
    const spec = c.constant(1);
    if (intAttr(c.node, "allowzero", 0) === 1) throw new Error("Reshape: allowzero=1 is not supported");
    const out = spec.map((d, i) => (d === 0 ? x[i]! : d));
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const infer = out.indexOf(-1);
    if (infer >= 0) out[infer] = numel(x) / known;
    if (numel(out) !== numel(x) || !out.every(Number.isInteger)) throw new Error(`Reshape: cannot reshape [${x}] to [${spec}]`);
    return [{ dtype: c.type(0).dtype, shape: out }];
  },
  Transpose: (c) => {
    const x = c.type(0).shape;
    const perm = intsAttr(c.node, "perm") ?? x.map((_, i) => x.length - 1 - i);
    return [{ dtype: c.type(0).dtype, shape: perm.map((p) => x[p]!) }];
  },
  Concat: (c) => {
    const first = c.type(0).shape;
    const axis = normAxis(intAttr(c.node, "axis", 0), first.length, "Concat");
    const out = [...first];
    for (let k = 1; k < c.node.inputs.length; k++) out[axis]! += c.type(k).shape[axis]!;
    return [{ dtype: c.type(0).dtype, shape: out }];
  },
  Slice: (c) => {
    const x = c.type(0).shape;
    const ax = sliceAxes(x, c.constant(1), c.constant(2), c.has(3) ? c.constant(3) : undefined, c.has(4) ? c.constant(4) : undefined);
    return [{ dtype: c.type(0).dtype, shape: ax.map((a) => a.count) }];
  },
  Pad: (c) => {
    const x = c.type(0).shape;
    const p = c.constant(1);
    return [{ dtype: c.type(0).dtype, shape: x.map((d, i) => d + p[i]! + p[i + x.length]!) }];
  },
  Resize: (c) => {
    const x = c.type(0).shape;
    const s = resizeScales(c);
    return [{ dtype: c.type(0).dtype, shape: x.map((d, i) => Math.floor(d * s[i]!)) }];
  },
  Unsqueeze: (c) => {
    const x = c.type(0).shape;
    const rank = x.length + c.constant(1).length;
    const axes = new Set(c.constant(1).map((a) => normAxis(a, rank, "Unsqueeze")));
    const out: number[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) out.push(axes.has(i) ? 1 : x[j++]!);
    return [{ dtype: c.type(0).dtype, shape: out }];
  },
  Squeeze: (c) => {
    const x = c.type(0).shape;
    const axes = c.has(1) ? new Set(c.constant(1).map((a) => normAxis(a, x.length, "Squeeze"))) : new Set(x.flatMap((d, i) => (d === 1 ? [i] : [])));
    return [{ dtype: c.type(0).dtype, shape: x.filter((_, i) => !axes.has(i)) }];
  },
};

/** Output types of one node; fails naming the op when it has no shape function. */
export function inferNode(c: InferContext): TensorType[] {
  const fn = SHAPES[c.node.opType];
  if (!fn) throw new Error(`shape inference: op '${c.node.opType}' is not supported (outputs ${c.node.outputs.join(", ")})`);
  return fn(c);
}
