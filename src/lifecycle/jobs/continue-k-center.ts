/**
 * Incremental greedy k-center (issue 9 part 3): continue the coreset
 * selection of fit (src/model/memory/coreset.ts) on new slices instead of
 * refitting. The existing bank is the set already picked: each new slice's
 * running minimum starts at its distance to the bank, and each further pick
 * is, exactly as in fit, the slice farthest from everything picked so far —
 * but only while that farthest slice lies beyond the bank's covering radius
 * (new slices closer than that are already as well represented as the
 * original data was), and at most `maxAdditions` picks per run.
 *
 * With a radius per candidate (`radii`: each slice's class's own target,
 * class-reference-radii.ts), the pick is the slice farthest beyond its own
 * radius, measured as the ratio of its distance to that radius, so a compact
 * class's slices compete with a spread-out class's on equal terms; with one
 * radius for all, that order is the distance order above.
 */
import { projectRows, updateMinDistances } from "../../model/memory/coreset.js";
import { toRows } from "../../model/feature-stats.js";
import type { FeatureMap } from "../../model/types.js";
import { throwIfCancelled } from "../../util/progress.js";
import { invalidInput } from "../../util/errors.js";

export interface ContinueOptions {
  /** Covering radius (L2, not squared) to reach; slices within it of the bank are not added. */
  readonly radius: number;
  /** A covering radius (L2) per candidate instead of `radius` for all. */
  readonly radii?: Float64Array;
  readonly maxAdditions: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (added: number) => void;
}

export interface ContinuedSelection {
  /** Indices of the added candidate rows, in pick order. */
  readonly added: Int32Array;
  /** Largest distance (L2) from any candidate to the bank plus the additions: ≤ radius (with `radii`, each candidate within its own) unless the cap stopped the run. */
  readonly uncoveredRadius: number;
  readonly stoppedBy: "covered" | "cap";
}

/**
 * @param points  candidate rows, n×d row-major, in the selection's space (the stored projection).
 * @param minDist per candidate, its squared distance to the nearest bank row; updated in place.
 */
export function continueKCenter(points: Float32Array, n: number, d: number, minDist: Float64Array, options: ContinueOptions): ContinuedSelection {
  if (points.length !== n * d) throw invalidInput(`candidates of ${points.length} values are not ${n}×${d}`);
  if (minDist.length !== n) throw invalidInput(`${minDist.length} starting distances for ${n} candidates`);
  if (!(options.radius >= 0)) throw invalidInput(`covering radius ${options.radius} must be a non-negative number`);
  if (!Number.isInteger(options.maxAdditions) || options.maxAdditions < 0) throw invalidInput(`maxAdditions ${options.maxAdditions} must be a non-negative integer`);
  if (options.radii) {
    if (options.radii.length !== n) throw invalidInput(`${options.radii.length} covering radii for ${n} candidates`);
    if (!options.radii.every((r) => r >= 0)) throw invalidInput("every candidate's covering radius must be a non-negative number");
    return continuePerRadius(points, n, d, minDist, options.radii, options);
  }
  const r2 = options.radius * options.radius;
  const added: number[] = [];
  // Farthest candidate from the bank (lowest index on ties, as in fit).
  let best = -1;
  let bestValue = -1;
  for (let i = 0; i < n; i++) {
    if (minDist[i]! > bestValue) {
      bestValue = minDist[i]!;
      best = i;
    }
  }
  while (n > 0 && bestValue > r2 && added.length < options.maxAdditions) {
    throwIfCancelled(options.signal, "memory-bank refresh");
    added.push(best);
    best = updateMinDistances(points, d, minDist, best, 0, n);
    bestValue = minDist[best]!;
    options.onProgress?.(added.length);
  }
  return {
    added: Int32Array.from(added),
    uncoveredRadius: n > 0 ? Math.sqrt(Math.max(0, bestValue)) : 0,
    stoppedBy: n > 0 && bestValue > r2 ? "cap" : "covered",
  };
}

/** A radius of 0 still leaves a slice at distance 0 covered: squared radii are floored here, not at 0. */
const MIN_SQUARED_RADIUS = 1e-12;

/** Index of the candidate farthest beyond its own radius (largest squared-distance ratio; lowest index on ties), and that ratio. */
function farthestBeyond(minDist: Float64Array, r2: Float64Array): { best: number; ratio: number } {
  let best = -1;
  let ratio = -1;
  for (let i = 0; i < minDist.length; i++) {
    const v = minDist[i]! / r2[i]!;
    if (v > ratio) {
      ratio = v;
      best = i;
    }
  }
  return { best, ratio };
}

function continuePerRadius(points: Float32Array, n: number, d: number, minDist: Float64Array, radii: Float64Array, options: ContinueOptions): ContinuedSelection {
  const r2 = Float64Array.from(radii, (r) => Math.max(MIN_SQUARED_RADIUS, r * r));
  const added: number[] = [];
  let { best, ratio } = farthestBeyond(minDist, r2);
  while (n > 0 && ratio > 1 && added.length < options.maxAdditions) {
    throwIfCancelled(options.signal, "memory-bank refresh");
    added.push(best);
    updateMinDistances(points, d, minDist, best, 0, n);
    ({ best, ratio } = farthestBeyond(minDist, r2));
    options.onProgress?.(added.length);
  }
  let uncovered = 0;
  for (let i = 0; i < n; i++) uncovered = Math.max(uncovered, minDist[i]!);
  return {
    added: Int32Array.from(added),
    uncoveredRadius: Math.sqrt(uncovered),
    stoppedBy: n > 0 && ratio > 1 ? "cap" : "covered",
  };
}

/** Rows (n×c) → their images under the d×c projection (n×d), or the rows themselves when there is none. */
export function projectRowsWith(rows: Float32Array, n: number, c: number, projection: Float32Array | undefined): { points: Float32Array; d: number } {
  if (!projection) return { points: rows, d: c };
  if (projection.length % c !== 0) throw invalidInput(`projection of ${projection.length} values is not d×${c}`);
  const d = projection.length / c;
  const points = new Float32Array(n * d);
  // fit's own kernel, so bank and new slices land on the same values.
  projectRows(rows, c, projection, d, points, 0, n);
  return { points, d };
}

/** Every slice of `maps` (each c channels over hw positions) as rows (n×c, map after map) and as points under the projection. */
export function sliceRowsWith(maps: readonly FeatureMap[], c: number, hw: number, projection: Float32Array | undefined): { rows: Float32Array; n: number; points: Float32Array; d: number } {
  const n = maps.length * hw;
  const rows = new Float32Array(n * c);
  const tmp = new Float32Array(hw * c);
  maps.forEach((x, i) => rows.set(toRows(x, tmp), i * hw * c));
  return { rows, n, ...projectRowsWith(rows, n, c, projection) };
}
