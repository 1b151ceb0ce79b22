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

export interface PseudoFeature {
  readonly cls: string;
  readonly anomalous: boolean;
  readonly x: FeatureMap;
  /** S×S ground truth (0/1) of a synthesized anomaly. */
  readonly mask?: Uint8Array;
}

export async function extractPseudoFeatures(
  samples: AsyncIterable<PseudoSample>,
  backbone: BackboneRunner,
  stats: FeatureStats,
  options: { signal?: AbortSignal; progress?: Progress } = {},
): Promise<PseudoFeature[]> {
  const S = backbone.inputSize;
  const out: PseudoFeature[] = [];
  for await (const s of samples) {
    throwIfCancelled(options.signal, "pseudo-validation features");
    const x = await standardizedFeatures(backbone, s.image, stats);
    out.push({ cls: s.cls, anomalous: s.kind === "pseudo", x, ...(s.mask ? { mask: maskToInput(s.mask, s.image, S, backbone.aspect) } : {}) });
    options.progress?.tick();
  }
  return out;
}


/** One image's feature map through the backbone, standardized with the bundle's statistics. */
export async function standardizedFeatures(backbone: BackboneRunner, image: RgbImage, stats: FeatureStats): Promise<FeatureMap> {
  const [x] = (await backbone.run(await backbone.input(image), 1, [image])) as [FeatureMap];
  standardizeInPlace(x, stats);
  return x;
}
