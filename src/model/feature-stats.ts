/**
 * Per-channel standardization of backbone features (DESIGN.md method 1):
 * mean/std measured on the training features, stored in the bundle, applied
 * identically at fit, eval and serve time.
 */
import type { FeatureMap } from "./types.js";

export interface FeatureStats {
  readonly mean: Float32Array;
  readonly std: Float32Array;
}

/** Accumulates channel sums in float64 over any number of CHW maps. */
export class FeatureStatsAccumulator {
  private readonly sum: Float64Array;
  private readonly sumSq: Float64Array;
  private count = 0;

  constructor(readonly c: number) {
    this.sum = new Float64Array(c);
    this.sumSq = new Float64Array(c);
  }

  add(x: FeatureMap): void {
    if (x.c !== this.c) throw new Error(`feature map has ${x.c} channels, expected ${this.c}`);
    const plane = x.h * x.w;
    for (let ch = 0; ch < x.c; ch++) {
      let s = 0;
      let s2 = 0;
      const base = ch * plane;
      for (let i = 0; i < plane; i++) {
        const v = x.data[base + i]!;
        s += v;
        s2 += v * v;
      }
      this.sum[ch]! += s;
      this.sumSq[ch]! += s2;
    }
    this.count += plane;
  }

  /** Population statistics; std is floored so dead channels (all zero after ReLU) do not divide by zero. */
  finish(minStd = 1e-6): FeatureStats {
    if (this.count === 0) throw new Error("no features were accumulated");
    const mean = new Float32Array(this.c);
    const std = new Float32Array(this.c);
    for (let ch = 0; ch < this.c; ch++) {
      const m = this.sum[ch]! / this.count;
      const variance = Math.max(this.sumSq[ch]! / this.count - m * m, 0);
      mean[ch] = m;
      std[ch] = Math.max(Math.sqrt(variance), minStd);
    }
    return { mean, std };
  }
}

/** (x − mean) / std per channel, in place. */
export function standardizeInPlace(x: FeatureMap, stats: FeatureStats): void {
  const plane = x.h * x.w;
  for (let ch = 0; ch < x.c; ch++) {
    const m = stats.mean[ch]!;
    const inv = 1 / stats.std[ch]!;
    const base = ch * plane;
    for (let i = 0; i < plane; i++) x.data[base + i] = (x.data[base + i]! - m) * inv;
  }
}

/** CHW → position-major rows (h·w rows of c values), the layout kNN search wants. */
export function toRows(x: FeatureMap, out = new Float32Array(x.c * x.h * x.w)): Float32Array {
  const plane = x.h * x.w;
  for (let ch = 0; ch < x.c; ch++) {
    const base = ch * plane;
    for (let i = 0; i < plane; i++) out[i * x.c + ch] = x.data[base + i]!;
  }
  return out;
}
