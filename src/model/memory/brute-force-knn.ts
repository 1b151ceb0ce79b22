/**
 * Exact k-nearest-neighbour search in plain TypeScript: the independent
 * reference the FAISS and ONNX searches are checked against, and a search
 * that needs no native code or session for small banks.
 */
import { invalidInput } from "../../util/errors.js";
import { rowNorms } from "./row-distance.js";

export interface BruteForceKnnResult {
  /** Base row indices, nQuery×k row-major, nearest first (lower index first on ties). */
  readonly indices: Int32Array;
  /** Squared L2 distances, nQuery×k row-major, ascending per query. */
  readonly distances: Float32Array;
}

/** Queries handled together: each base value loaded serves this many dot products. */
const QUERY_BLOCK = 4;
/** Base rows per tile, sized so a tile of typical feature rows (c ≤ 512) stays in L2 cache. */
const BASE_TILE_VALUES = 1 << 16;

/**
 * d²(q, b) = ‖q‖² + ‖b‖² − 2 q·b, clamped at 0 where rounding makes it
 * negative. Base rows are scanned in tiles, and within a tile four queries
 * at a time, so the loop is bound by multiply-adds rather than memory.
 * Sums are in double precision.
 */
export function bruteForceKnn(base: Float32Array, nBase: number, queries: Float32Array, nQuery: number, dim: number, k: number): BruteForceKnnResult {
  if (!Number.isInteger(dim) || dim < 1) throw invalidInput(`dimension ${dim} must be a positive integer`);
  if (base.length !== nBase * dim) throw invalidInput(`base of ${base.length} values is not ${nBase}×${dim}`);
  if (queries.length !== nQuery * dim) throw invalidInput(`queries of ${queries.length} values are not ${nQuery}×${dim}`);
  if (!Number.isInteger(k) || k < 1 || k > nBase) throw invalidInput(`k=${k} must be between 1 and the base size ${nBase}`);

  const baseNorm = rowNorms(base, nBase, dim);
  const queryNorm = rowNorms(queries, nQuery, dim);
  const topD = new Float64Array(nQuery * k).fill(Infinity);
  const topI = new Int32Array(nQuery * k).fill(-1);

  const insert = (q: number, d: number, index: number): void => {
    const o = q * k;
    // Strict comparisons keep an earlier (lower) index ahead of an equal distance.
    if (!(d < topD[o + k - 1]!)) return;
    let p = o + k - 1;
    while (p > o && d < topD[p - 1]!) {
      topD[p] = topD[p - 1]!;
      topI[p] = topI[p - 1]!;
      p--;
    }
    topD[p] = d;
    topI[p] = index;
  };

  const tileRows = Math.max(1, Math.floor(BASE_TILE_VALUES / dim));
  for (let b0 = 0; b0 < nBase; b0 += tileRows) {
    const b1 = Math.min(nBase, b0 + tileRows);
    let q = 0;
    for (; q + QUERY_BLOCK <= nQuery; q += QUERY_BLOCK) {
      const o0 = q * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim;
      const n0 = queryNorm[q]!, n1 = queryNorm[q + 1]!, n2 = queryNorm[q + 2]!, n3 = queryNorm[q + 3]!;
      for (let j = b0; j < b1; j++) {
        const ob = j * dim;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let t = 0; t < dim; t++) {
          const v = base[ob + t]!;
          s0 += queries[o0 + t]! * v;
          s1 += queries[o1 + t]! * v;
          s2 += queries[o2 + t]! * v;
          s3 += queries[o3 + t]! * v;
        }
        const bn = baseNorm[j]!;
        insert(q, Math.max(0, n0 + bn - 2 * s0), j);
        insert(q + 1, Math.max(0, n1 + bn - 2 * s1), j);
        insert(q + 2, Math.max(0, n2 + bn - 2 * s2), j);
        insert(q + 3, Math.max(0, n3 + bn - 2 * s3), j);
      }
    }
    for (; q < nQuery; q++) {
      const oq = q * dim;
      for (let j = b0; j < b1; j++) {
        const ob = j * dim;
        let s = 0;
        for (let t = 0; t < dim; t++) s += queries[oq + t]! * base[ob + t]!;
        insert(q, Math.max(0, queryNorm[q]! + baseNorm[j]! - 2 * s), j);
      }
    }
  }
  return { indices: topI, distances: Float32Array.from(topD) };
}
