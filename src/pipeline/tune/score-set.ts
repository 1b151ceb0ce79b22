/**
 * Scores the pseudo-validation set with one scorer: image AUROC as the mean
 * over classes (as the paper reports it; a unified model must rank well in
 * every class), pixel AUROC over each class's S×S maps and then its mean
 * over classes (as `lafite eval` and the paper report it), and every
 * sample's image score for threshold calibration.
 */
import { auroc, PixelMetricAccumulator } from "../../measures/metrics.js";
import type { FrameScorer } from "../frame-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import { framePixels, type PseudoFeature } from "./pseudo-features.js";
import { imageScoreOf, type ImageScoreSettings } from "../../model/scoring/anomaly-map.js";

export interface SetScores {
  readonly imageAuroc: number | null;
  readonly pixelAuroc: number | null;
  /** Image scores in the order of the feature set. */
  readonly scores: readonly number[];
  /** The class each frame read as (frameClass), in the same order; undefined where the bank names none. */
  readonly reads: readonly (string | undefined)[];
  /** Per alternative image-score rule asked for: the scores from the same maps and their mean class AUROC. */
  readonly alternatives: readonly { readonly imageAuroc: number | null; readonly scores: readonly number[] }[];
}

export async function scorePseudoSet(
  set: readonly PseudoFeature[],
  scorer: FrameScorer,
  options: { pixels?: boolean; signal?: AbortSignal; progress?: Progress; alternatives?: readonly ImageScoreSettings[] } = {},
): Promise<SetScores> {
  const scores: number[] = [];
  const reads: (string | undefined)[] = [];
  const alternatives = (options.alternatives ?? []).map(() => [] as number[]);
  const pixels = options.pixels ? new ClassPixelAuroc() : undefined;
  for (const s of set) {
    throwIfCancelled(options.signal, "pseudo-validation scoring");
    const scored = await scorer.score(s.x);
    scores.push(scored.score);
    reads.push(scored.class);
    // Other image-score rules cost only their reduction of the same map.
    options.alternatives?.forEach((rule, i) => alternatives[i]!.push(imageScoreOf(scored.map, scorer.settings.mapSize, rule)));
    pixels?.addFrame(s, scored.map, scorer.settings.mapSize);
    options.progress?.tick();
  }
  return {
    imageAuroc: meanClassAuroc(set, scores),
    pixelAuroc: pixels ? pixels.mean() : null,
    scores,
    reads,
    alternatives: alternatives.map((a) => ({ imageAuroc: meanClassAuroc(set, a), scores: a })),
  };
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

/**
 * Pixel AUROC per class, and its mean over the classes that have both
 * labels. Pooling every class's pixels into one AUROC would also rank how
 * well the classes' score scales line up, which no class's inspection sees:
 * on the realistic suite the pooled figure fell as the detail bank's weight
 * rose while the per-class mean, on the same set, rose as on the test set.
 */
export class ClassPixelAuroc {
  private readonly byClass = new Map<string, PixelMetricAccumulator>();

  /** A sample's S×S map (`size` S), over its frame's pixels only (framePixels); no mask means a normal image. */
  addFrame(sample: Pick<PseudoFeature, "cls" | "x" | "mask">, map: Float32Array, size: number): void {
    let acc = this.byClass.get(sample.cls);
    if (!acc) this.byClass.set(sample.cls, (acc = new PixelMetricAccumulator()));
    const px = framePixels(sample, map, size);
    acc.add(px.map, px.mask);
  }

  mean(): number | null {
    const values = [...this.byClass.values()].map((a) => a.aurocOrNull()).filter((v): v is number => v !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
}
