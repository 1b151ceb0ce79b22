/**
 * Scores the pseudo-validation set with one scorer: image AUROC as the mean
 * over classes (as the paper reports it; a unified model must rank well in
 * every class), pixel AUROC over all synthesized anomalies' S×S maps, and
 * every sample's image score for threshold calibration.
 */
import { auroc, PixelMetricAccumulator } from "../../eval/metrics.js";
import type { FrameScorer } from "../frame-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";

export interface SetScores {
  readonly imageAuroc: number | null;
  readonly pixelAuroc: number | null;
  /** Image scores in the order of the feature set. */
  readonly scores: readonly number[];
}

export async function scorePseudoSet(set: readonly PseudoFeature[], scorer: FrameScorer, options: { pixels?: boolean; signal?: AbortSignal; progress?: Progress } = {}): Promise<SetScores> {
  const scores: number[] = [];
  const pixels = options.pixels ? new PixelMetricAccumulator() : undefined;
  for (const s of set) {
    throwIfCancelled(options.signal, "pseudo-validation scoring");
    const scored = await scorer.score(s.x);
    scores.push(scored.score);
    if (pixels) pixels.add(scored.map, s.mask ?? new Uint8Array(scored.map.length));
    options.progress?.tick();
  }
  return { imageAuroc: meanClassAuroc(set, scores), pixelAuroc: pixels && pixels.positives > 0 && pixels.negatives > 0 ? pixels.auroc() : null, scores };
}

/** Mean of per-class image AUROC over classes that have both labels; null when none has. */
export function meanClassAuroc(set: readonly Pick<PseudoFeature, "cls" | "anomalous">[], scores: readonly number[]): number | null {
  const byClass = new Map<string, { s: number[]; l: number[] }>();
  set.forEach((f, i) => {
    const entry = byClass.get(f.cls) ?? { s: [], l: [] };
    entry.s.push(scores[i]!);
    entry.l.push(f.anomalous ? 1 : 0);
    byClass.set(f.cls, entry);
  });
  const values: number[] = [];
  for (const { s, l } of byClass.values()) if (l.includes(0) && l.includes(1)) values.push(auroc(s, l));
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}
