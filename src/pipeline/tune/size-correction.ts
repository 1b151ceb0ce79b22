/**
 * Which classes get the size correction (model/scoring/size-trend.ts):
 * each class's held-out normals scored in the served mode at the final
 * settings (τ, K, the detail and context weights), their log score fitted
 * against the log of their frame's long side. Normals only: on the classes
 * of many frame sizes the synthesized anomalies are the ones the set cannot
 * show (the realistic suite's tiles: pseudo-validation image AUROC near
 * chance), while the trend of the normals is a plain measurement.
 */
import type * as ort from "onnxruntime-node";
import type { FeatureMap, ScoringMode } from "../../model/types.js";
import { chooseSizeTrends, longSide, SIZE_MIN_NORMALS, SIZE_MIN_SPREAD, type SizeTrends, type SizeTuningRecord } from "../../model/scoring/size-trend.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { checkRemeasureInput, type RemeasureInput, type TuneCorrectionInput } from "./correction-input.js";

export async function tuneSizeCorrection(input: TuneCorrectionInput<PseudoFeature>): Promise<{ sizes?: SizeTrends; record: SizeTuningRecord }> {
  const normals = input.set.filter((f) => !f.anomalous);
  const samples = await sizeSamples({ ...input, frames: normals, onScored: () => input.progress?.tick() });
  return chooseSizeTrends(samples, input.mode);
}

/**
 * Each sized frame's class, long side and score in `mode`, judged as its own class (as calibration counts it), without
 * any size correction (the trend is measured without one). Frames of unknown size are skipped; a score of 0 (a frame
 * that is its own bank row everywhere) has no logarithm and is left out.
 */
async function sizeSamples(input: {
  readonly frames: readonly { readonly x: FeatureMap; readonly cls: string }[];
  readonly mode: ScoringMode;
  readonly parts: ScorerParts;
  readonly settings: ScorerSettings;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly onScored?: () => void;
}): Promise<{ cls: string; side: number; score: number }[]> {
  // Position profiles standardize the score after the size correction, so the trend is measured without them too.
  const { sizes: _measuredWithout, profiles: _profiledAfter, ...settings } = input.settings;
  const samples: { cls: string; side: number; score: number }[] = [];
  const opened = await openScorer(input.mode, input.parts, settings, input.sessionOptions);
  try {
    for (const { x, cls } of input.frames) {
      if (!x.frameSize) continue;
      throwIfCancelled(input.signal, "size correction");
      const score = (await opened.scorer.score(x, cls)).score;
      if (score > 0) samples.push({ cls, side: longSide(x.frameSize), score });
      input.onScored?.();
    }
  } finally {
    await opened.release();
  }
  return samples;
}

/**
 * The kept classes' trends measured again on a model's held-out normals, as it will serve them otherwise (a
 * lifecycle refresh or retrain moves its scores, and accepted frames bring sizes fit never saw): which classes keep
 * the correction stays as tuning chose; a class with fewer than SIZE_MIN_NORMALS sized normals among `maps`, or whose
 * normals no longer span sizes, keeps its trend. Measured without a size correction (or position profile) in the settings.
 */
export async function remeasureSizes(input: RemeasureInput & { readonly sizes: SizeTrends }): Promise<{ sizes: SizeTrends; normals: Record<string, number> }> {
  const { sizes } = input;
  checkRemeasureInput(input);
  const samples = await sizeSamples({ ...input, frames: correctedFrames(sizes, input.maps, input.classes), mode: sizes.mode });
  const measured = chooseSizeTrends(samples, sizes.mode).record.classes;
  const classes = Object.fromEntries(
    Object.entries(sizes.classes).map(([cls, old]) => {
      const fit = measured[cls];
      const usable = fit !== undefined && fit.normals >= SIZE_MIN_NORMALS && fit.spread >= SIZE_MIN_SPREAD;
      return [cls, usable ? { slope: fit.slope, center: fit.center, minSide: fit.minSide, maxSide: fit.maxSide } : old];
    }),
  );
  const normals = Object.fromEntries(Object.keys(sizes.classes).map((cls) => [cls, samples.filter((s) => s.cls === cls).length]));
  return { sizes: { ...sizes, classes }, normals };
}

/** Tagged maps of the corrected classes: an untagged accepted frame's class is not known here. */
function correctedFrames(sizes: SizeTrends, maps: readonly FeatureMap[], classes: readonly (string | undefined)[]): { x: FeatureMap; cls: string }[] {
  return maps.flatMap((x, i) => {
    const cls = classes[i];
    return cls !== undefined && cls in sizes.classes ? [{ x, cls }] : [];
  });
}

/** How many scorings remeasureSizes does over these maps (its progress total): the sized ones among correctedFrames. */
export function sizeRemeasureWork(sizes: SizeTrends, maps: readonly FeatureMap[], classes: readonly (string | undefined)[]): number {
  return correctedFrames(sizes, maps, classes).filter((f) => f.x.frameSize !== undefined).length;
}
