/**
 * Every row's nearest initial pick, for a greedy k-center selection that
 * starts from many picks at once (class-coreset.ts: the classes' 7,500 picks,
 * then the global pass over 250,000 rows).
 *
 * The selection measured each row against each initial pick in turn, one
 * scalar distance at a time, pruned by the triangle inequality: on the
 * realistic suite with kit that took 85 of the coreset's 132 s, because the
 * classes' feature clouds are close enough that few other-class picks can be
 * ruled out (bounds by class means ruled out fewer still). The same minima
 * are one matrix product: an ONNX k-nearest search of all rows against the
 * picks (onnx-knn.ts), about 5 s there.
 *
 * The search's ‖q‖² − 2q·p + ‖p‖² in float32 is not the selection's
 * difference kernel, so it only proposes: each row's K proposals are measured
 * again with the kernel (row-distance.ts), and the nearest of them is taken
 * when the search's K-th distance, less a bound on its rounding error, is
 * still farther, so no pick the search ranked lower can be nearer. Rows
 * where that fails are measured against every pick. The distances are then
 * the very values the scan would have reached, and the selection continues
 * with the same picks.
 */
import { availableParallelism } from "node:os";
import { invalidInput } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { InitialCover } from "./coreset.js";
import { OnnxKnn } from "./onnx-knn.js";
import { rowNorms, sqDistAt } from "./row-distance.js";

/** Rows measured together: one product of this many rows by the picks. */
export interface QueryGroup {
  /** The rows' points, rows.length × d. */
  readonly points: Float32Array;
  /** Each point's row index among all n rows. */
  readonly rows: ArrayLike<number>;
}

export interface NearestPicksOptions {
  /** Threads of the search; default min(2, cores), as the selection. */
  threads?: number;
  signal?: AbortSignal;
  /** Rows done, of n. */
  onProgress?: (done: number, total: number) => void;
  /** Proposals per row, default 4. */
  proposals?: number;
}

export interface NearestPicks extends InitialCover {
  /** Rows whose proposals could not be confirmed and were measured against every pick. */
  readonly fullScans: number;
}

/** Values of one search's distance matrix (rows × picks), about 64 MB. */
const BATCH_VALUES = 1 << 24;
/** Unit roundoff of float32. */
const EPS32 = 2 ** -24;

/**
 * @param picks the initial picks' points, count × d, in pick order.
 * @param groups every one of the n rows exactly once, with its point.
 * @returns each row's squared distance to its nearest pick (by sqDistAt of
 *   the row against the pick) and that pick's index.
 */
export async function nearestInitialPicks(picks: Float32Array, count: number, d: number, groups: readonly QueryGroup[], n: number, options: NearestPicksOptions = {}): Promise<NearestPicks> {
  if (!Number.isInteger(count) || count < 1 || picks.length !== count * d) throw invalidInput(`initial picks of ${picks.length} values are not ${count}×${d}`);
  const minDist = new Float64Array(n).fill(NaN);
  const owner = new Int32Array(n).fill(-1);
  const k = Math.min(count, options.proposals ?? 4);
  const pickNormMax = rowNorms(picks, count, d).reduce((a, b) => Math.max(a, b), 0);
  const threads = options.threads ?? Math.min(2, availableParallelism());
  const knn = await OnnxKnn.create(picks, count, d, k, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const batch = Math.max(1, Math.floor(BATCH_VALUES / count));
  let done = 0;
  let fullScans = 0;
  try {
    for (const { points, rows } of groups) {
      if (points.length !== rows.length * d) throw invalidInput(`a group of ${rows.length} rows has ${points.length} values, not ${rows.length}×${d}`);
      for (let lo = 0; lo < rows.length; lo += batch) {
        throwIfCancelled(options.signal, "coreset selection");
        const hi = Math.min(rows.length, lo + batch);
        // A copy: ONNX Runtime refuses views of shared memory (a selection's points are shared with its workers).
        const queries = points.slice(lo * d, hi * d);
        const found = await knn.search(queries, hi - lo);
        const queryNorms = rowNorms(queries, hi - lo, d);
        for (let q = 0; q < hi - lo; q++) {
          const o = (lo + q) * d;
          const row = rows[lo + q]!;
          if (row < 0 || row >= n || owner[row] !== -1) throw invalidInput(`row ${row} is not a row below ${n} or appears twice`);
          let m = Infinity;
          let a = -1;
          for (let t = 0; t < k; t++) {
            const j = found.indices[q * k + t]!;
            const dist = sqDistAt(points, o, picks, j * d, d);
            if (dist < m) (m = dist), (a = j);
          }
          // The search's K-th distance is within `slack` of the true one; if even the lowest it could be is past m, no unproposed pick is nearer.
          const slack = 8 * d * EPS32 * (queryNorms[q]! + pickNormMax);
          if (k < count && !(found.distances[q * k + k - 1]! - slack > m)) {
            fullScans++;
            for (let j = 0; j < count; j++) {
              const dist = sqDistAt(points, o, picks, j * d, d);
              if (dist < m) (m = dist), (a = j);
            }
          }
          minDist[row] = m;
          owner[row] = a;
        }
        done += hi - lo;
        options.onProgress?.(done, n);
      }
    }
  } finally {
    await knn.release();
  }
  if (done !== n) throw invalidInput(`the groups hold ${done} rows, not ${n}`);
  return { minDist, owner, fullScans };
}
