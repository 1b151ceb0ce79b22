/**
 * The pseudo-validation set as the scorers see it: each sample's
 * standardized backbone features, its label and, for synthesized anomalies,
 * its ground-truth mask on the S×S map the scores live on. Features are
 * computed once and re-scored at every point of a sweep.
 */
import { toModelInput, type RgbImage } from "../../image/decode.js";
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
    const [x] = (await backbone.run(await toModelInput(s.image, S), 1)) as [FeatureMap];
    standardizeInPlace(x, stats);
    out.push({ cls: s.cls, anomalous: s.kind === "pseudo", x, ...(s.mask ? { mask: resizeMaskNearest(s.mask, s.image, S) } : {}) });
    options.progress?.tick();
  }
  return out;
}

/** The mask stretched to S×S like the image itself (toModelInput stretches), nearest neighbour so it stays binary. */
export function resizeMaskNearest(mask: Uint8Array, image: Pick<RgbImage, "width" | "height">, size: number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / size));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / size));
      out[y * size + x] = mask[sy * image.width + sx] ? 1 : 0;
    }
  }
  return out;
}
