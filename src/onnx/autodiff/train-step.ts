/**
 * Compiles a forward graph with a scalar loss into ONNX models for training:
 *  - buildGradientGraph: forward + reverse-mode gradients; outputs `loss` and `grad/<name>`.
 *  - buildTrainStep: that, plus one AdamW update; outputs `loss`, `new/<name>`,
 *    `new_m/<name>`, `new_v/<name>`.
 * Both take the forward graph's own inputs unchanged (data and parameters by
 * name); the train step adds `m/<name>`, `v/<name>`, `lr` and `step` (float32
 * scalars; `step` is the 1-based number of the update being made, for bias
 * correction). The forward GraphBuilder is not modified.
 *
 * One optimizer step per session call: on this CPU the per-call overhead with
 * preallocated outputs is small next to the step (bench/train-step.ts), so
 * `stepsPerCall` > 1 (an ONNX Loop over stacked minibatches) is not built.
 */
import { DataType, GraphBuilder, type Value } from "../graph-builder.js";
import { emitAdamW, type AdamWConfig } from "./adamw.js";
import type { AutodiffOptions } from "./gradient-rules.js";
import { appendGradients } from "./gradients.js";
import { TypedGraph } from "./typed-graph.js";

export type { AdamWConfig } from "./adamw.js";

/** A graph input of the forward GraphBuilder. */
export interface TrainableParam {
  name: string;
  shape: number[];
}

export interface TrainStepSpec {
  graph: GraphBuilder;
  params: TrainableParam[];
  /** Scalar float32 loss. */
  loss: Value;
  adamw: AdamWConfig;
  /** Optimizer steps per session call; only 1 is supported (see the file comment). */
  stepsPerCall?: number;
  /** How gradients are emitted (default: the measured-fastest formulation). */
  autodiff?: AutodiffOptions;
}

export type GradientSpec = Pick<TrainStepSpec, "graph" | "params" | "loss" | "autodiff">;

interface Compiled {
  t: TypedGraph;
  grads: Map<string, Value>;
  lossShape: number[];
}

function compileGradients(spec: GradientSpec, name: string): Compiled {
  const g = spec.graph.clone(name);
  const inputs = new Map(g.inputRecords.map((r) => [r.name, r]));
  const seen = new Set<string>();
  for (const p of spec.params) {
    if (seen.has(p.name)) throw new Error(`train step: parameter '${p.name}' is listed twice`);
    seen.add(p.name);
    const r = inputs.get(p.name);
    if (!r) throw new Error(`train step: parameter '${p.name}' is not an input of graph '${spec.graph.name}'`);
    if (r.type !== DataType.FLOAT && r.type !== DataType.DOUBLE) throw new Error(`train step: parameter '${p.name}' must be a float tensor`);
    if (r.shape.length !== p.shape.length || r.shape.some((d, i) => d !== p.shape[i])) {
      throw new Error(`train step: parameter '${p.name}' is declared [${p.shape}] but the graph input is [${r.shape}]`);
    }
  }
  const t = new TypedGraph(g);
  const grads = appendGradients(t, spec.loss, spec.params.map((p) => p.name), spec.autodiff);
  const lt = t.type(spec.loss);
  if (lt.dtype !== DataType.FLOAT && lt.dtype !== DataType.DOUBLE) throw new Error("train step: the loss must be a float tensor");
  return { t, grads, lossShape: [...lt.shape] };
}

/** Forward + gradients: outputs `loss` and `grad/<name>` for every parameter. */
export function buildGradientGraph(spec: GradientSpec): Uint8Array {
  const { t, grads, lossShape } = compileGradients(spec, `${spec.graph.name}-grad`);
  const dtype = t.type(spec.loss).dtype;
  t.g.output(spec.loss, dtype, lossShape, "loss");
  for (const p of spec.params) t.g.output(grads.get(p.name)!, dtype, p.shape, `grad/${p.name}`);
  return t.g.toBytes();
}

/** Forward + gradients + AdamW: one optimizer step per call. */
export function buildTrainStep(spec: TrainStepSpec): Uint8Array {
  const steps = spec.stepsPerCall ?? 1;
  if (steps !== 1) throw new Error(`train step: stepsPerCall=${steps} is not supported; one step per call measured as fast (bench/train-step.ts)`);
  const { t, grads, lossShape } = compileGradients(spec, `${spec.graph.name}-train`);
  if (t.type(spec.loss).dtype !== DataType.FLOAT) throw new Error("train step: the loss must be float32");
  const g = t.g;
  const f = DataType.FLOAT;
  const slots = spec.params.map((p) => ({
    param: { name: p.name },
    grad: grads.get(p.name)!,
    m: t.input(`m/${p.name}`, f, p.shape),
    v: t.input(`v/${p.name}`, f, p.shape),
  }));
  const lr = t.input("lr", f, []);
  const step = t.input("step", f, []);
  const updates = emitAdamW(t, spec.adamw, lr, step, slots, f);
  g.output(spec.loss, f, lossShape, "loss");
  spec.params.forEach((p, i) => {
    const u = updates[i]!;
    g.output(u.param, f, p.shape, `new/${p.name}`);
    g.output(u.m, f, p.shape, `new_m/${p.name}`);
    g.output(u.v, f, p.shape, `new_v/${p.name}`);
  });
  return g.toBytes({ "lafite.train_step": JSON.stringify({ params: spec.params.length, adamw: spec.adamw }) });
}
