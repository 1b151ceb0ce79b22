/**
 * AdamW (Loshchilov & Hutter, decoupled weight decay) as graph ops, with
 * Adam's bias correction. For step t (1-based), gradient g, rate lr:
 *   m' = β1·m + (1−β1)·g
 *   v' = β2·v + (1−β2)·g²
 *   p' = p·(1 − lr·λ) − lr · m̂ / (√v̂ + ε),   m̂ = m'/(1−β1ᵗ),  v̂ = v'/(1−β2ᵗ)
 * Weight decay applies to every parameter given (the caller chooses which).
 * The step-dependent scalars are computed once per graph, then shared.
 */
import type { DataType, Value } from "../graph-builder.js";
import type { TypedGraph } from "./typed-graph.js";

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWSlot {
  readonly param: Value;
  readonly grad: Value;
  readonly m: Value;
  readonly v: Value;
}

export interface AdamWUpdate {
  readonly param: Value;
  readonly m: Value;
  readonly v: Value;
}

export function validateAdamW(cfg: AdamWConfig): void {
  const bad = (what: string) => {
    throw new RangeError(`AdamW: ${what}`);
  };
  if (!(cfg.beta1 >= 0 && cfg.beta1 < 1)) bad(`beta1 must be in [0, 1), got ${cfg.beta1}`);
  if (!(cfg.beta2 >= 0 && cfg.beta2 < 1)) bad(`beta2 must be in [0, 1), got ${cfg.beta2}`);
  if (!(cfg.eps > 0)) bad(`eps must be > 0, got ${cfg.eps}`);
  if (!(cfg.weightDecay >= 0)) bad(`weightDecay must be ≥ 0, got ${cfg.weightDecay}`);
}

/** Appends one AdamW step for every slot; `lr` and `step` are scalar tensors of type `dtype`. */
export function emitAdamW(t: TypedGraph, cfg: AdamWConfig, lr: Value, step: Value, slots: readonly AdamWSlot[], dtype: DataType): AdamWUpdate[] {
  validateAdamW(cfg);
  const c = (x: number) => t.scalar(x, dtype);
  const one = c(1);
  // Shared scalars: lr/(1−β1ᵗ), 1/√(1−β2ᵗ), 1 − lr·λ.
  const bc1 = t.op("Sub", [one, t.op("Pow", [c(cfg.beta1), step])]);
  const bc2 = t.op("Sub", [one, t.op("Pow", [c(cfg.beta2), step])]);
  const stepSize = t.op("Div", [lr, bc1]);
  const invSqrtBc2 = t.op("Div", [one, t.op("Sqrt", [bc2])]);
  const decay = t.op("Sub", [one, t.op("Mul", [lr, c(cfg.weightDecay)])]);
  const b1 = c(cfg.beta1);
  const b1c = c(1 - cfg.beta1);
  const b2 = c(cfg.beta2);
  const b2c = c(1 - cfg.beta2);
  const eps = c(cfg.eps);
  return slots.map((s) => {
    const m = t.op("Add", [t.op("Mul", [s.m, b1]), t.op("Mul", [s.grad, b1c])]);
    const v = t.op("Add", [t.op("Mul", [s.v, b2]), t.op("Mul", [t.op("Mul", [s.grad, s.grad]), b2c])]);
    const denom = t.op("Add", [t.op("Mul", [t.op("Sqrt", [v]), invSqrtBc2]), eps]);
    const upd = t.op("Mul", [t.op("Div", [m, denom]), stepSize]);
    const decayed = cfg.weightDecay === 0 ? s.param : t.op("Mul", [s.param, decay]);
    return { param: t.op("Sub", [decayed, upd]), m, v };
  });
}
