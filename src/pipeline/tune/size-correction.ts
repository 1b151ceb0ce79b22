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
import type { ScoringMode } from "../../model/types.js";
import { chooseSizeTrends, longSide, type SizeTrends, type SizeTuningRecord } from "../../model/scoring/size-trend.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";

export async function tuneSizeCorrection(input: {
  readonly set: readonly PseudoFeature[];
  readonly parts: ScorerParts;
  /** The final settings, detail and context banks included (a size correction among them is left out: the trend is measured without one). */
  readonly settings: ScorerSettings;
  readonly mode: ScoringMode;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
}): Promise<{ sizes?: SizeTrends; record: SizeTuningRecord }> {
  const { sizes: _measuredBefore, ...settings } = input.settings;
  const normals = input.set.filter((f) => !f.anomalous && f.x.frameSize !== undefined);
  const samples: { cls: string; side: number; score: number }[] = [];
  const opened = await openScorer(input.mode, input.parts, settings, input.sessionOptions);
  try {
    for (const f of normals) {
      throwIfCancelled(input.signal, "size correction");
      // Judged as its own class, as calibration counts it.
      samples.push({ cls: f.cls, side: longSide(f.x.frameSize!), score: (await opened.scorer.score(f.x, f.cls)).score });
      input.progress?.tick();
    }
  } finally {
    await opened.release();
  }
  // A score of 0 (a frame that is its own bank row everywhere) has no logarithm; such a class has no trend to speak of.
  const positive = samples.filter((s) => s.score > 0);
  return chooseSizeTrends(positive, input.mode);
}
