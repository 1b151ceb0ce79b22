/**
 * Feature editing (paper 3.3, Eq. 10): each query slice x_(i,j) is replaced
 * by a weighted sum of its K nearest coreset neighbours before the diffusion
 * model corrupts and reconstructs it, pulling anomalous slices towards the
 * normal manifold.
 */
import type { FeatureMap } from "../types.js";
import { invalidInput } from "../../util/errors.js";

/**
 * Neighbour weights of Eq. 10, w_k = 1 − softmax(d)_k with d the L2 (not
 * squared) distances to the K nearest coreset rows.
 *
 * As printed these weights sum to K−1 (and to 0 for K=1, which would erase
 * the feature), so we divide by K−1 to make e a convex combination of the
 * neighbours, and K=1 gives weight [1], i.e. plain nearest-neighbour
 * replacement (DESIGN.md, method 3).
 *
 * Stability: DESIGN.md says to subtract the min distance, but exp(d − min)
 * overflows to Infinity once the spread of distances exceeds ~709 (a far
 * outlier) and Infinity/Infinity is NaN. Subtracting the max instead keeps
 * every exponent ≤ 0 and the sum ≥ 1, and softmax is unchanged by the shift.
 * 1 − p_k is formed as Σ_{j≠k} e_j / Σ e_j rather than by subtraction so a
 * neighbour holding almost all the softmax mass keeps a precise small weight.
 */
export function editingWeights(distances: ArrayLike<number>): Float64Array {
  const k = distances.length;
  if (k === 0) throw invalidInput("feature editing needs at least one neighbour distance");
  let max = -Infinity;
  for (let i = 0; i < k; i++) {
    const d = distances[i]!;
    if (!Number.isFinite(d)) throw invalidInput(`neighbour distance ${d} is not a finite number`);
    if (d > max) max = d;
  }
  const w = new Float64Array(k);
  if (k === 1) {
    w[0] = 1;
    return w;
  }
  const e = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    e[i] = Math.exp(distances[i]! - max);
    total += e[i]!;
  }
  for (let i = 0; i < k; i++) {
    let others = 0;
    for (let j = 0; j < k; j++) if (j !== i) others += e[j]!;
    w[i] = others / total / (k - 1);
  }
  return w;
}

/**
 * Eq. 10 over a whole feature map: e_(i,j) = Σ_k w_k n_k with n_k the coreset
 * rows named by `neighbours` and w from {@link editingWeights}. The input
 * values themselves are not used, only its shape: editing replaces a slice by
 * what the memory bank says it should look like.
 *
 * @param neighbours (h·w)×k row-major coreset row indices, nearest first.
 * @param distances  (h·w)×k L2 distances (not squared) matching `neighbours`.
 * @param coreset    n×c row-major coreset features.
 */
export function editFeatures(
  x: FeatureMap,
  neighbours: Int32Array,
  distances: Float32Array,
  k: number,
  coreset: Float32Array,
  c: number,
): FeatureMap {
  const hw = x.h * x.w;
  if (x.c !== c) throw invalidInput(`feature map has ${x.c} channels but the coreset has ${c}`);
  if (!Number.isInteger(k) || k < 1) throw invalidInput(`K=${k} must be a positive integer`);
  if (neighbours.length !== hw * k) throw invalidInput(`${neighbours.length} neighbour indices are not ${hw} positions × K=${k}`);
  if (distances.length !== hw * k) throw invalidInput(`${distances.length} neighbour distances are not ${hw} positions × K=${k}`);
  if (c < 1 || coreset.length % c !== 0) throw invalidInput(`coreset of ${coreset.length} values is not a whole number of ${c}-channel rows`);
  const n = coreset.length / c;
  const out = new Float32Array(c * hw);
  // Accumulate one slice in double precision, then scatter it channel-major.
  const acc = new Float64Array(c);
  for (let p = 0; p < hw; p++) {
    const w = editingWeights(distances.subarray(p * k, p * k + k));
    acc.fill(0);
    for (let j = 0; j < k; j++) {
      const row = neighbours[p * k + j]!;
      if (row < 0 || row >= n) throw invalidInput(`neighbour index ${row} at position ${p} is outside the coreset of ${n} rows`);
      const wj = w[j]!;
      const base = row * c;
      for (let ch = 0; ch < c; ch++) acc[ch] = acc[ch]! + wj * coreset[base + ch]!;
    }
    for (let ch = 0; ch < c; ch++) out[ch * hw + p] = acc[ch]!;
  }
  return { data: out, c, h: x.h, w: x.w };
}
