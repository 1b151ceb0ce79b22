/**
 * Pseudo-validation of a tiled class (model/tiling.ts): its held-out frames,
 * anomalies synthesized on them (image/pseudo, fit's recipe) and as many
 * hairlines (image/pseudo/hairline.ts: thin faint lines, the defect tiles
 * are for, which the recipe's pasted blobs do not show) are scored
 * by the model as it would serve them with the tiles, and each is measured
 * twice, by the whole frame's score and map alone and by the two combined:
 * image AUROC, pixel AUROC and AUPRO at the frame's size, ranked in the
 * class's threshold units as eval ranks them. chooseTiles decides whether
 * the tiles are kept, and whether they join the score or only the map.
 */
import { pseudoSamples, type PseudoClass } from "../../image/pseudo/index.js";
import { synthesizeHairline } from "../../image/pseudo/hairline.js";
import { readImageFile } from "../../image/read-image-file.js";
import { deriveSeed, seededRng } from "../../image/synth/rng.js";
import type { RgbImage } from "../../image/decode.js";
import type { PseudoRecipe } from "../../image/pseudo/samples.js";
import { auroc, PixelMetricAccumulator } from "../../measures/metrics.js";
import { ProAccumulator } from "../../measures/pro.js";
import { pixelsRelativeToThreshold } from "../../measures/judged-units.js";
import { chooseTiles, type TileChoiceRecord, type TileFigures } from "../../model/tiling.js";
import { Progress, throwIfCancelled, type ProgressSink } from "../../util/progress.js";
import { mapToFrame, type BundleDetector } from "../bundle-detector.js";

export async function measureTileChoice(served: BundleDetector, cls: PseudoClass, recipe: PseudoRecipe, options: { signal?: AbortSignal; progressSink?: ProgressSink } = {}): Promise<TileChoiceRecord> {
  const threshold = served.thresholdOf(cls.name);
  const ways = ["whole", "tiled"] as const;
  const acc = Object.fromEntries(ways.map((w) => [w, { pixels: new PixelMetricAccumulator(), pro: new ProAccumulator(), scores: [] as number[] }])) as Record<(typeof ways)[number], { pixels: PixelMetricAccumulator; pro: ProAccumulator; scores: number[] }>;
  const labels: boolean[] = [];
  let hairlines = 0;
  const progress = new Progress(`fit: ${cls.name} tiles: pseudo-validation`, cls.images.length + 2 * recipe.perClass, { unit: "images", ...(options.progressSink ? { sink: options.progressSink } : {}) });
  for await (const s of tileChoiceSamples(cls, recipe, options.signal)) {
    throwIfCancelled(options.signal, "fit");
    const { width, height } = s.image;
    const scored = await served.scoreImage(s.image, 0, cls.name);
    if (!scored.tiled) throw new Error(`${cls.name}: a frame was scored without its tiles`);
    const mask = s.mask ?? new Uint8Array(width * height);
    const maps = { whole: mapToFrame(scored.map, served.info.inputSize, width, height, served.aspect), tiled: scored.tiled.frameMap };
    // With the tiles in the score, whatever the record being measured says: that is what is being chosen.
    const scores = { whole: scored.tiled.wholeScore, tiled: Math.max(scored.tiled.wholeScore, scored.tiled.tileScore) };
    for (const w of ways) {
      const ranked = pixelsRelativeToThreshold(maps[w], threshold);
      acc[w].pixels.add(ranked, mask);
      acc[w].pro.add(ranked, mask, width);
      acc[w].scores.push(scores[w]);
    }
    labels.push(s.anomalous);
    if (s.hairline) hairlines++;
    progress.tick();
  }
  const figures = (w: (typeof ways)[number]): TileFigures => {
    const a = acc[w];
    const normals = labels.filter((l) => !l).length;
    const both = labels.some((l) => l) && normals > 0;
    // The image AUROC over a handful of normals (a 25-frame class holds out 2) moves by 1/n² a pair: not a measure to refuse tiles by.
    return { imageAuroc: both && normals >= MIN_IMAGE_NORMALS ? auroc(a.scores, labels) : null, pixelAuroc: a.pixels.aurocOrNull(), aupro: both ? a.pro.aupro() : null };
  };
  const whole = figures("whole");
  const tiled = figures("tiled");
  return { normals: labels.filter((l) => !l).length, anomalies: labels.filter((l) => l).length, hairlines, whole, tiled, ...chooseTiles(whole, tiled) };
}

/** The fewest held-out normals the choice measures an image AUROC over (fit's threshold.minClassNormals default). */
export const MIN_IMAGE_NORMALS = 10;

/** The recipe's samples of the class, then `perClass` hairlines drawn on its normals in turn, each from its own stream. */
export async function* tileChoiceSamples(cls: PseudoClass, recipe: PseudoRecipe, signal: AbortSignal | undefined): AsyncGenerator<{ image: RgbImage; mask?: Uint8Array; anomalous: boolean; hairline: boolean }> {
  for await (const s of pseudoSamples([cls], { ...recipe, ...(signal ? { signal } : {}) })) yield { image: s.image, ...(s.mask ? { mask: s.mask } : {}), anomalous: s.kind === "pseudo", hairline: false };
  for (let i = 0; i < recipe.perClass; i++) {
    const { image } = await readImageFile(cls.images[i % cls.images.length]!);
    const made = synthesizeHairline(image, seededRng(deriveSeed(recipe.seed, "hairline", cls.name, i)));
    yield { image: made.image, mask: made.mask, anomalous: true, hairline: true };
  }
}
