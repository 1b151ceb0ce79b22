/** Test data and an independent greedy k-center for the coreset tests. */
import { createRng } from "../../src/util/random.js";

/** n×c rows in 5 clusters of different spread, closer to real features than pure noise. */
export function gaussianData(n: number, c: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const centers = Array.from({ length: 5 }, () => Float64Array.from({ length: c }, () => rng.normal() * 3));
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    const m = centers[i % 5]!;
    const spread = 0.2 + (i % 5) * 0.3;
    for (let j = 0; j < c; j++) out[i * c + j] = m[j]! + rng.normal() * spread;
  }
  return out;
}

export function sqDist(x: Float32Array, c: number, a: number, b: number): number {
  let s = 0;
  for (let j = 0; j < c; j++) s += (x[a * c + j]! - x[b * c + j]!) ** 2;
  return s;
}

/**
 * Independent reference: starting from the given picks, recompute every
 * point's distance to every pick (no running minimum) and take the farthest,
 * lowest index on ties, until there are `count`.
 */
export function slowKCenter(x: Float32Array, n: number, c: number, count: number, initial: readonly number[]): number[] {
  const picks = [...initial];
  while (picks.length < count) {
    let best = -1, bestValue = -1;
    for (let i = 0; i < n; i++) {
      const m = Math.min(...picks.map((p) => sqDist(x, c, i, p)));
      if (m > bestValue) {
        bestValue = m;
        best = i;
      }
    }
    picks.push(best);
  }
  return picks;
}

/** Largest distance (L2) from any row to its nearest pick. */
export function coveringRadius(x: Float32Array, n: number, c: number, picks: readonly number[]): number {
  let r = 0;
  for (let i = 0; i < n; i++) r = Math.max(r, Math.min(...picks.map((p) => sqDist(x, c, i, p))));
  return Math.sqrt(r);
}
