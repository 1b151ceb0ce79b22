/**
 * The pseudo-validation set as the scorers see it: each sample's
 * standardized backbone features, its label and, for synthesized anomalies,
 * its ground-truth mask on the S×S map the scores live on. Features are
 * computed once and re-scored at every point of a sweep.
 */
import type { RgbImage } from "../../image/decode.js";
import { maskToInput } from "../../image/geometry.js";
import type { BackboneRunner } from "../../model/backbone-runner.js";
import { standardizeInPlace, type FeatureStats } from "../../model/feature-stats.js";
import type { FeatureMap } from "../../model/types.js";
import type { PseudoSample } from "../../image/pseudo/index.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";

/** One backbone view of a sample: the whole frame, or one of its tiles (image/geometry.ts tilesOf). */
export interface PseudoFeature {
  readonly cls: string;
  /** The sample's label: a tile of a synthesized anomaly is anomalous even where its own part of the mask is empty. */
  readonly anomalous: boolean;
  readonly x: FeatureMap;
  /** S×S ground truth (0/1) of a synthesized anomaly, for this view. */
  readonly mask?: Uint8Array;
  /** Views of one frame carry the same number and come one after another; absent = a frame of its own. */
  readonly frame?: number;
}

export async function extractPseudoFeatures(
  samples: AsyncIterable<PseudoSample>,
  backbone: BackboneRunner,
  stats: FeatureStats,
  options: { signal?: AbortSignal; progress?: Progress } = {},
): Promise<PseudoFeature[]> {
  const S = backbone.inputSize;
  const out: PseudoFeature[] = [];
  let frame = 0;
  for await (const s of samples) {
    throwIfCancelled(options.signal, "pseudo-validation features");
    const views = await backbone.views(s.image);
    const maps = await backbone.runInputs(views.map((v) => v.input));
    views.forEach(({ tile }, i) => {
      const x = maps[i]!;
      standardizeInPlace(x, stats);
      out.push({ cls: s.cls, anomalous: s.kind === "pseudo", x, frame, ...(s.mask ? { mask: maskToInput(s.mask, s.image, S, backbone.aspect, tile) } : {}) });
    });
    frame++;
    options.progress?.tick();
  }
  return out;
}

