/**
 * How close the bank must come to an accepted frame's slices for the
 * refresh to leave them out: per class, the distance at which the class's
 * unseen normals (fit's held-out images) typically have their farthest
 * slice, the median over those images of each one's largest nearest-row
 * distance. Capped by fit's covering radius, so no slice is left out that
 * fit's radius alone would take in.
 *
 * Why: fit's covering radius is one number, the largest over every class's
 * selection. On the realistic suite with glass (8 classes) it was 9.39,
 * while the held-out normals' farthest slices sat at a median of 5.8
 * (assembly) to 8.8 (nut); only the varied-size tiles' reached past it
 * (10.5). An accepted false alarm of any other class lay inside the radius,
 * so the refresh added nothing from it and the frame stayed NG after the
 * operator had accepted it.
 */
import type { FeatureMap } from "../../model/types.js";
import { quantile } from "../../model/scoring/threshold.js";
import type * as ort from "onnxruntime-node";
import { sliceRowsWith } from "./continue-k-center.js";
import { nearestBankDistances } from "./coverage-space.js";

/** Per image, the largest distance (L2, in the selection's space) from any of its slices to the nearest bank row. */
export async function farthestSliceDistances(
  maps: readonly FeatureMap[],
  bank: { readonly points: Float32Array; readonly size: number },
  projection: Float32Array | undefined,
  sessionOptions: ort.InferenceSession.SessionOptions,
): Promise<number[]> {
  if (maps.length === 0) return [];
  const { c, h, w } = maps[0]!;
  const hw = h * w;
  const { points, n, d } = sliceRowsWith(maps, c, hw, projection);
  const sq = await nearestBankDistances(bank.points, bank.size, points, n, d, sessionOptions);
  return maps.map((_, i) => {
    let worst = 0;
    for (let p = i * hw; p < (i + 1) * hw; p++) worst = Math.max(worst, sq[p]!);
    return Math.sqrt(worst);
  });
}

/** Per class, the median (the mean of the middle two for an even count) of its images' farthest-slice distances; images of no class are left out. */
export function classReferenceRadii(farthest: readonly number[], classes: readonly (string | undefined)[]): Record<string, number> {
  if (farthest.length !== classes.length) throw new RangeError(`${farthest.length} distances for ${classes.length} classes`);
  const byClass = new Map<string, number[]>();
  classes.forEach((cls, i) => {
    if (cls !== undefined) byClass.set(cls, [...(byClass.get(cls) ?? []), farthest[i]!]);
  });
  const out: Record<string, number> = {};
  // The interpolated 0.5 quantile is the median: the middle value, or the mean of the middle two.
  for (const [cls, values] of [...byClass].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[cls] = quantile(values, 0.5);
  return out;
}

/**
 * Each candidate slice's covering radius: its frame's class's reference,
 * capped by fit's radius; fit's radius for a frame of no class, or of a
 * class without held-out normals (a new product's tag).
 */
export function candidateRadii(frameClasses: readonly (string | undefined)[], slicesPerFrame: number, reference: Readonly<Record<string, number>>, fitRadius: number): Float64Array {
  const out = new Float64Array(frameClasses.length * slicesPerFrame);
  frameClasses.forEach((cls, i) => {
    const own = cls !== undefined && Object.hasOwn(reference, cls) ? reference[cls]! : fitRadius;
    out.fill(Math.min(own, fitRadius), i * slicesPerFrame, (i + 1) * slicesPerFrame);
  });
  return out;
}
