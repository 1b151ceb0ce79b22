/**
 * `npm run bench:tiling`: would frames many times the input size (the
 * realistic suite's 1024-px sheet: 4.6× the 224-px input, its hairlines one
 * pixel wide) be better scored in tiles, each nearer its native resolution,
 * or in tiles and whole together?
 *
 * Two steps:
 *   --write OUT --data DIR --class NAME [--tiles K] [--overlap F]
 *     writes class NAME of DIR cut into K×K tiles (src/image/tiles.ts) as a
 *     data set of its own, masks cut alike: fit it with `lafite fit --data OUT`.
 *   --bundle B --tiled-bundle BT --data DIR --class NAME [--tiles K] [--overlap F] [--mode M]
 *     scores each test image of the class whole with B (fitted on whole
 *     frames) and in tiles with BT (fitted on the written tiles), and prints
 *     per defect type and over all: image AUROC, pixel AUROC and AUPRO at
 *     the frame's resolution, for the whole frame, the tiles (their maps
 *     stitched, overlaps averaged; the frame's score the largest of its
 *     tiles'), and the two combined (max and mean of the maps, each divided
 *     by the 0.99 quantile of its own held-out normals' pixels; the image
 *     score the larger of the two, each in units of its bundle's threshold),
 *     with the milliseconds a frame takes each way and their ratio.
 */
import { mkdir, readFile, readdir } from "node:fs/promises";
import { join, parse } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { readMask } from "../src/dataset/masks.js";
import { decodeEncoded } from "../src/image/decode.js";
import { holdoutClasses } from "../src/image/pseudo/holdout.js";
import { cropImage, stitchMaps, tileRects, type TileRect } from "../src/image/tiles.js";
import { loadDetector } from "../src/pipeline/load.js";
import { pixelUnitOf } from "../src/pipeline/tiling/frame-units.js";
import { mapToFrame, type BundleDetector } from "../src/pipeline/bundle-detector.js";
import { PixelMetricAccumulator, auroc } from "../src/measures/metrics.js";
import { pixelsRelativeToThreshold } from "../src/measures/judged-units.js";
import { ProAccumulator } from "../src/measures/pro.js";
import { SCORING_MODES, type ScoringMode } from "../src/model/types.js";

const USAGE =
  "usage: npm run bench:tiling -- --write OUT --data DIR --class NAME [--tiles K] [--overlap F]\n" +
  "       npm run bench:tiling -- --bundle B --tiled-bundle BT --data DIR --class NAME [--tiles K] [--overlap F] [--mode M]";
const { values } = parseArgs({
  options: {
    write: { type: "string" },
    bundle: { type: "string" },
    "tiled-bundle": { type: "string" },
    data: { type: "string" },
    class: { type: "string" },
    tiles: { type: "string" },
    overlap: { type: "string" },
    mode: { type: "string" },
  },
});
if (!values.data || !values.class) throw new Error(USAGE);
const k = Number(values.tiles ?? 4);
const overlap = Number(values.overlap ?? 0);
tileRects(k, k, k, overlap); // refuses a bad k or overlap before any work
const tileName = (stem: string, i: number) => `${stem}_r${Math.floor(i / k)}c${i % k}`;

if (values.write) await writeTiles(values.write, values.data, values.class);
else {
  if (!values.bundle || !values["tiled-bundle"]) throw new Error(USAGE);
  if (values.mode !== undefined && !(SCORING_MODES as readonly string[]).includes(values.mode)) throw new Error(`--mode must be one of ${SCORING_MODES.join(", ")}`);
  await compare(values.bundle, values["tiled-bundle"], values.data, values.class, values.mode as ScoringMode | undefined);
}

async function cutFile(file: string, dir: string, stem: string, suffix: string): Promise<void> {
  const { width, height } = await sharp(file).metadata();
  if (!width || !height) throw new Error(`${file}: no size`);
  await mkdir(dir, { recursive: true });
  const rects = tileRects(width, height, k, overlap);
  for (const [i, r] of rects.entries()) {
    await sharp(file).extract(r).png().toFile(join(dir, `${tileName(stem, i)}${suffix}.png`));
  }
}

async function writeTiles(out: string, data: string, cls: string): Promise<void> {
  const src = join(data, cls);
  const dst = join(out, cls);
  let frames = 0;
  for (const split of ["train", "validation", "test"]) {
    const types = await readdir(join(src, split)).catch(() => [] as string[]);
    for (const type of types) {
      for (const file of (await readdir(join(src, split, type))).filter((f) => /\.(png|jpe?g|bmp)$/i.test(f))) {
        const stem = parse(file).name;
        await cutFile(join(src, split, type, file), join(dst, split, type), stem, "");
        const mask = join(src, "ground_truth", type, `${stem}_mask.png`);
        if (split === "test" && type !== "good") await cutFile(mask, join(dst, "ground_truth", type), stem, "_mask");
        frames++;
      }
    }
  }
  console.log(`wrote ${frames} frames of ${cls} as ${k}×${k} tiles (overlap ${overlap}) under ${dst}`);
}

/** The held-out normals of `cls` that fit kept out of B's bank (manifest provenance), as paths. */
async function heldOut(bundle: string, cls: string): Promise<readonly string[]> {
  const manifest = JSON.parse(await readFile(join(bundle, "manifest.json"), "utf8")) as { provenance: { dataset: string; holdoutFiles?: string[] } };
  return holdoutClasses(manifest.provenance.holdoutFiles, manifest.provenance.dataset).find((c) => c.name === cls)?.images ?? [];
}

/** The 0.99 quantile of the pixels of B's held-out normals of `cls`, each map at its image's size: the unit a scale's map is counted in (as served tiling counts it). */
async function normalPixelUnit(detector: BundleDetector, bundle: string, cls: string): Promise<number> {
  const files = await heldOut(bundle, cls);
  if (files.length === 0) throw new Error(`${bundle} holds out no normal of ${cls}`);
  return pixelUnitOf(detector, files);
}

interface Scale {
  map: Float32Array;
  /** The image score in units of its bundle's threshold. */
  score: number;
  ms: number;
}

async function compare(bundle: string, tiledBundle: string, data: string, cls: string, mode: ScoringMode | undefined): Promise<void> {
  const [whole, tiled] = await Promise.all([loadDetector(bundle, mode ? { mode } : {}), loadDetector(tiledBundle, mode ? { mode } : {})]);
  try {
    const [wholeUnit, tileUnit] = [await normalPixelUnit(whole, bundle, cls), await normalPixelUnit(tiled, tiledBundle, cls)];
    const [dataset] = await scanDataset(data, { classes: [cls] });
    if (!dataset) throw new Error(`${data} has no class ${cls}`);
    const variants = ["whole", "tiles", "max", "mean"] as const;
    type Variant = (typeof variants)[number];
    const defects = [...new Set(dataset.test.filter((t) => t.anomalous).map((t) => t.defect))];
    const groups = ["all", ...defects];
    const acc = new Map<string, { pixels: PixelMetricAccumulator; pro: ProAccumulator; scores: number[]; labels: boolean[] }>();
    for (const v of variants) for (const g of groups) acc.set(`${v}/${g}`, { pixels: new PixelMetricAccumulator(), pro: new ProAccumulator(), scores: [], labels: [] });
    const ms = { whole: [] as number[], tiles: [] as number[] };
    for (const item of dataset.test) {
      const image = await decodeEncoded(await readFile(item.path));
      let t0 = performance.now();
      const w = await whole.scoreImage(image);
      const wholeScale: Scale = { map: mapToFrame(w.map, whole.info.inputSize, image.width, image.height, whole.aspect), score: w.score / w.threshold, ms: performance.now() - t0 };
      t0 = performance.now();
      const parts: { rect: TileRect; map: Float32Array }[] = [];
      let tileScore = 0;
      for (const rect of tileRects(image.width, image.height, k, overlap)) {
        const t = await tiled.scoreImage(cropImage(image, rect));
        parts.push({ rect, map: mapToFrame(t.map, tiled.info.inputSize, rect.width, rect.height, tiled.aspect) });
        tileScore = Math.max(tileScore, t.score / t.threshold);
      }
      const tileScale: Scale = { map: stitchMaps(image.width, image.height, parts), score: tileScore, ms: performance.now() - t0 };
      ms.whole.push(wholeScale.ms);
      ms.tiles.push(tileScale.ms);
      const a = wholeScale.map.map((x) => x / wholeUnit);
      const b = tileScale.map.map((x) => x / tileUnit);
      const maps: Record<Variant, Float32Array> = { whole: a, tiles: b, max: a.map((x, i) => Math.max(x, b[i]!)), mean: a.map((x, i) => (x + b[i]!) / 2) };
      const scores: Record<Variant, number> = { whole: wholeScale.score, tiles: tileScale.score, max: Math.max(wholeScale.score, tileScale.score), mean: (wholeScale.score + tileScale.score) / 2 };
      const mask = item.maskPath ? (await readMask(item.maskPath)).mask : new Uint8Array(image.width * image.height);
      if (mask.length !== image.width * image.height) throw new Error(`${item.maskPath}: the mask's size is not the image's`);
      for (const v of variants) {
        // One increasing function to the histograms' positive values: a profiled class's map is negative below its normals' mean.
        const ranked = pixelsRelativeToThreshold(maps[v], 1);
        for (const g of item.anomalous ? ["all", item.defect] : groups) {
          const s = acc.get(`${v}/${g}`)!;
          s.pixels.add(ranked, mask);
          s.pro.add(ranked, mask, image.width);
          s.scores.push(scores[v]);
          s.labels.push(item.anomalous);
        }
      }
    }
    const pct = (x: number) => (100 * x).toFixed(1).padStart(5);
    console.log(`${cls}: ${dataset.test.length} test images, ${k}×${k} tiles, overlap ${overlap}; mode ${whole.info.mode}; image / pixel AUROC / AUPRO`);
    console.log(`${"variant".padEnd(8)}  ${groups.map((g) => g.padStart(19)).join("  ")}`);
    for (const v of variants) {
      const cells = groups.map((g) => {
        const s = acc.get(`${v}/${g}`)!;
        return `${pct(auroc(s.scores, s.labels))} ${pct(s.pixels.auroc())} ${pct(s.pro.aupro())}`.padStart(19);
      });
      console.log(`${v.padEnd(8)}  ${cells.join("  ")}`);
    }
    const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1]!;
    const [mw, mt] = [median(ms.whole), median(ms.tiles)];
    console.log(`per frame, median: whole ${mw.toFixed(0)} ms, ${k * k} tiles ${mt.toFixed(0)} ms (ratio ${(mt / mw).toFixed(2)}); both ${(mw + mt).toFixed(0)} ms (ratio ${((mw + mt) / mw).toFixed(2)})`);
  } finally {
    await Promise.all([whole.close(), tiled.close()]);
  }
}
