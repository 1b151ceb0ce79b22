/**
 * The pseudo-validation set as the scorers see it: each sample's
 * standardized backbone features, its label and, for synthesized anomalies,
 * its ground-truth mask on the S×S map the scores live on. Features are
 * computed once and re-scored at every point of a sweep.
 */
import type { RgbImage } from "../../image/decode.js";
import { cropToPlacement, maskToInput } from "../../image/geometry.js";
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

/**
 * A sample's S×S map and ground truth over its frame only, for pixel
 * figures: a letterbox border's pixels are not the frame's. A gray border
 * scores low and pads every frame with easy negatives; a mirrored one
 * repeats the frame's edge, a pasted anomaly's reflection included, under a
 * mask of 0. Eval leaves the border out too (mapToFrame). `width` is the
 * cropped map's row length (the region accumulator needs it).
 */
export function framePixels(f: Pick<PseudoFeature, "x" | "mask">, map: Float32Array, size: number): { readonly map: Float32Array; readonly mask: Uint8Array; readonly width: number } {
  if (map.length !== size * size) throw new RangeError(`a map of ${map.length} values is not ${size}×${size}`);
  const mask = f.mask ?? new Uint8Array(map.length);
  const p = f.x.place;
  if (!p) return { map, mask, width: size };
  return { map: cropToPlacement(map, size, p), mask: cropToPlacement(mask, size, p), width: p.w };
}
