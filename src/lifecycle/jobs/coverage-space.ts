/**
 * The space and radius an incremental refresh measures coverage in: the
 * coreset selection's random projection and covering radius as stored by fit
 * (manifest memory.projection / memory.coverageRadius). Bundles fitted before
 * those were stored get both back from the bank itself: the projection is a
 * pure function of (seed, c, dim) in the config, and the radius is estimated
 * as the smallest distance between two bank rows. Why that estimate: greedy
 * k-center picks each row at the current covering radius from all earlier
 * picks, and that radius only shrinks, so the closest pair is the last pick
 * and its earlier neighbour, at the radius just before the last pick — an
 * upper bound on the final radius, off by one pick.
 */
import { bytesToFloat32, type LoadedBundle } from "../../model/bundle.js";
import { coresetProjection } from "../../model/memory/coreset.js";
import { OnnxKnn } from "../../model/memory/onnx-knn.js";
import type * as ort from "onnxruntime-node";
import { projectRowsWith } from "./continue-k-center.js";

export interface CoverageSpace {
  /** d×c projection matrix, or undefined when selection ran on the features. */
  readonly projection: Float32Array | undefined;
  readonly seed: number;
  readonly dim: number;
  /** Target covering radius (L2 in the projected space). */
  readonly radius: number;
  readonly source: "manifest" | "estimated from the bank";
}

/** Query rows per ONNX kNN call: bounds the q×n distance matrix in memory (2048 × 10 000 floats = 80 MB). */
const QUERY_CHUNK = 2048;

/** Squared distance from each of `n` rows (in `points`, n×d) to its nearest bank row, via the ONNX kNN graph. */
export async function nearestBankDistances(bankPoints: Float32Array, bankSize: number, points: Float32Array, n: number, d: number, sessionOptions: ort.InferenceSession.SessionOptions, k = 1): Promise<Float64Array> {
  const out = new Float64Array(n * k);
  if (n === 0) return out;
  const knn = await OnnxKnn.create(bankPoints, bankSize, d, k, sessionOptions);
  try {
    for (let q0 = 0; q0 < n; q0 += QUERY_CHUNK) {
      const q1 = Math.min(n, q0 + QUERY_CHUNK);
      const res = await knn.search(points.subarray(q0 * d, q1 * d), q1 - q0);
      for (let i = 0; i < (q1 - q0) * k; i++) out[q0 * k + i] = res.distances[i]!;
    }
  } finally {
    await knn.release();
  }
  return out;
}

export async function coverageSpace(bundle: LoadedBundle, coreset: Float32Array, sessionOptions: ort.InferenceSession.SessionOptions): Promise<CoverageSpace> {
  const m = bundle.manifest;
  const { c } = m.features;
  const stored = m.memory.projection;
  const seed = stored?.seed ?? m.config.seed;
  const dim = stored?.dim ?? m.config.memory.projectionDim;
  const projection = stored?.file ? bytesToFloat32(bundle.file(stored.file)) : coresetProjection(seed, c, dim);
  if (m.memory.coverageRadius !== undefined) return { projection, seed, dim, radius: m.memory.coverageRadius, source: "manifest" };
  const n = m.memory.coresetSize;
  if (n < 2) return { projection, seed, dim, radius: 0, source: "estimated from the bank" };
  const { points, d } = projectRowsWith(coreset, n, c, projection);
  // k = 2: the nearest row of each bank row is itself (distance 0), the second is its closest other row.
  const two = await nearestBankDistances(points, n, points, n, d, sessionOptions, 2);
  let min = Infinity;
  for (let i = 0; i < n; i++) min = Math.min(min, two[i * 2 + 1]!);
  return { projection, seed, dim, radius: Math.sqrt(min), source: "estimated from the bank" };
}
