/**
 * Which grid point a sweep keeps: the highest pseudo-validation image AUROC,
 * then the highest pixel AUROC, then the earliest in grid order (grids list
 * the cheaper or more conservative settings first). Values closer than
 * `tolerance` count as equal, so float noise cannot pick a different point.
 */
import type { TuningPoint } from "../../model/bundle.js";

export function compareTuningPoints(a: TuningPoint, b: TuningPoint, tolerance = 1e-9): number {
  const key = (v: number | null) => (v === null ? Number.NEGATIVE_INFINITY : v);
  const di = key(a.image_auroc) - key(b.image_auroc);
  if (Number.isFinite(di) ? Math.abs(di) > tolerance : di !== 0 && !Number.isNaN(di)) return di > 0 ? 1 : -1;
  const dp = key(a.pixel_auroc) - key(b.pixel_auroc);
  if (Number.isFinite(dp) ? Math.abs(dp) > tolerance : dp !== 0 && !Number.isNaN(dp)) return dp > 0 ? 1 : -1;
  return 0;
}

/** Index of the best point; ties go to the earliest. */
export function bestPointIndex(points: readonly TuningPoint[]): number {
  if (points.length === 0) throw new Error("best point of an empty sweep");
  let best = 0;
  for (let i = 1; i < points.length; i++) if (compareTuningPoints(points[i]!, points[best]!) > 0) best = i;
  return best;
}
