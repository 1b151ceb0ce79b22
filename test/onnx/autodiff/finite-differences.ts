/**
 * Test support: checks the gradients autodiff emits against central finite
 * differences of the same forward graph, both run in onnxruntime.
 *
 * float64 is used wherever ORT's CPU provider has double kernels; Conv,
 * ConvTranspose and Resize have only float32 kernels there (checked: "Could
 * not find an implementation for Conv(11)"), so those cases run in float32.
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder, type Value } from "../../../src/onnx/graph-builder.js";
import { buildGradientGraph, type TrainableParam } from "../../../src/onnx/autodiff/train-step.js";
import type { AutodiffOptions } from "../../../src/onnx/autodiff/gradient-rules.js";

/** A tiny deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Float = "float32" | "float64";
export const dataType = (f: Float) => (f === "float64" ? DataType.DOUBLE : DataType.FLOAT);

export function array(f: Float, n: number, gen: () => number): Float32Array | Float64Array {
  const a = f === "float64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen();
  return a;
}

export interface Case {
  graph: GraphBuilder;
  params: TrainableParam[];
  loss: Value;
  /** Values of every input (params included). */
  feeds: Record<string, Float32Array | Float64Array>;
}

export interface CaseBuilder {
  g: GraphBuilder;
  f: Float;
  /** Adds a parameter input filled with values from `gen` (default U(−1, 1)). */
  param(name: string, shape: number[], gen?: () => number): Value;
  /** A constant tensor of random values (initializer). */
  constant(shape: number[], gen?: () => number): Value;
  /** Σ R·y with a fixed random R: a scalar loss whose ∂L/∂y is a random tensor. */
  project(y: Value, shape: number[]): Value;
}

export function makeCase(f: Float, seed: number, body: (b: CaseBuilder) => Value): Case {
  const g = new GraphBuilder("case");
  const r = rng(seed);
  const uni = () => 2 * r() - 1;
  const params: TrainableParam[] = [];
  const feeds: Record<string, Float32Array | Float64Array> = {};
  const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const b: CaseBuilder = {
    g,
    f,
    param(name, shape, gen = uni) {
      params.push({ name, shape });
      feeds[name] = array(f, numel(shape), gen);
      return g.input(name, dataType(f), shape);
    },
    constant(shape, gen = uni) {
      return g.constant(array(f, numel(shape), gen), shape);
    },
    project(y, shape) {
      const [p] = g.op("Mul", [y, b.constant(shape)]);
      return g.op("ReduceSum", [p!], { keepdims: 0 })[0]!;
    },
  };
  const loss = body(b);
  return { graph: g, params, loss, feeds };
}

function tensor(f: Float, data: Float32Array | Float64Array, shape: number[]): ort.Tensor {
  return f === "float64" ? new ort.Tensor("float64", data as Float64Array, shape) : new ort.Tensor("float32", data as Float32Array, shape);
}

export interface GradCheck {
  /** Largest relative error over the checked elements. */
  maxRelError: number;
  checked: number;
}

/**
 * Compares ∂L/∂p from the gradient graph with (L(p+h) − L(p−h)) / 2h for up to
 * `perParam` elements of each parameter. The relative error of one element is
 * |fd − ad| / max(|fd|, |ad|, floor), floor = 1e-2 · max|ad| of that parameter,
 * so components that are nearly zero are judged on the parameter's scale.
 */
export async function checkCase(c: Case, f: Float, opts: { h?: number; perParam?: number; autodiff?: AutodiffOptions } = {}): Promise<GradCheck> {
  const h = opts.h ?? (f === "float64" ? 1e-5 : 1e-2);
  const perParam = opts.perParam ?? 16;
  const gradModel = buildGradientGraph({ graph: c.graph, params: c.params, loss: c.loss, autodiff: opts.autodiff });
  const fwd = c.graph.clone("fwd");
  fwd.output(c.loss, dataType(f), [], "loss");
  const [gs, fs] = await Promise.all([ort.InferenceSession.create(gradModel), ort.InferenceSession.create(fwd.toBytes())]);
  const shapes = new Map(c.graph.inputRecords.map((r) => [r.name, r.shape as number[]]));
  const feeds = () => Object.fromEntries(Object.entries(c.feeds).map(([k, v]) => [k, tensor(f, v, shapes.get(k)!)]));
  const out = await gs.run(feeds());
  const r = rng(99);
  let maxRel = 0;
  let checked = 0;
  for (const p of c.params) {
    const ad = out[`grad/${p.name}`]!.data as Float32Array | Float64Array;
    const x = c.feeds[p.name]!;
    let scale = 0;
    for (const v of ad) scale = Math.max(scale, Math.abs(v));
    const floor = Math.max(1e-2 * scale, 1e-12);
    const idx = x.length <= perParam ? [...x.keys()] : Array.from({ length: perParam }, () => Math.floor(r() * x.length));
    for (const i of idx) {
      const x0 = x[i]!;
      x[i] = x0 + h;
      const lp = Number(((await fs.run(feeds())).loss!.data as Float32Array | Float64Array)[0]);
      x[i] = x0 - h;
      const lm = Number(((await fs.run(feeds())).loss!.data as Float32Array | Float64Array)[0]);
      x[i] = x0;
      const fd = (lp - lm) / (2 * h);
      const a = ad[i]!;
      const rel = Math.abs(fd - a) / Math.max(Math.abs(fd), Math.abs(a), floor);
      if (!(rel <= maxRel)) maxRel = Number.isNaN(rel) ? Infinity : rel;
      checked++;
    }
  }
  return { maxRelError: maxRel, checked };
}

/** Runs the gradient graph of a case and returns every `grad/<name>` output. */
export async function gradients(c: Case, f: Float, autodiff?: AutodiffOptions): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(buildGradientGraph({ graph: c.graph, params: c.params, loss: c.loss, autodiff }));
  const shapes = new Map(c.graph.inputRecords.map((r) => [r.name, r.shape as number[]]));
  const out = await s.run(Object.fromEntries(Object.entries(c.feeds).map(([k, v]) => [k, tensor(f, v, shapes.get(k)!)])));
  const res: Record<string, number[]> = {};
  for (const p of c.params) res[p.name] = Array.from(out[`grad/${p.name}`]!.data as Float32Array);
  return res;
}
