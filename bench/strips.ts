/**
 * `npm run bench:strips`: frames far narrower than they are tall, as the
 * factory suite's tiles (about 100–630 × 220–400 px), scored by a unified
 * model fitted on the realistic suite.
 *
 * Letterboxed, a 1:4 frame is three quarters gray border. A frame's class,
 * which picks its detail-bank weight, is read off the nearest bank rows of
 * the cells that show the frame (model/memory/row-classes.ts frameClass);
 * before the border stopped voting, every such strip of a tile was read as
 * the 1:2 logical class, whose border rows lay nearest, and served its W.
 *
 * For one class (--class, default cast_tile) of --data, cuts each test
 * image and its mask to a vertical strip of width height / --ratio (default
 * 4) around the defect's centre (the image's centre for good ones), writes
 * them as an MVTec-layout set under --out, and evaluates --bundle on it in
 * its served mode, printing image / pixel AUROC / AUPRO beside the same
 * figures with every frame forced to the class's own detail weight (what
 * a right reading gives) and to the model's W 0 (the logical class's).
 *
 * Usage: npm run bench:strips -- --data DIR --bundle B --out DIR [--class cast_tile] [--ratio 4]
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { scanDataset } from "../src/dataset/mvtec-layout.js";
import { evaluate, type ClassMetrics } from "../src/eval/evaluate.js";
import { loadDetector } from "../src/pipeline/load.js";
import type { BundleManifest } from "../src/model/bundle.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    bundle: { type: "string" },
    out: { type: "string" },
    class: { type: "string", default: "cast_tile" },
    ratio: { type: "string", default: "4" },
  },
});
if (!values.data || !values.bundle || !values.out) throw new Error("usage: npm run bench:strips -- --data DIR --bundle B --out DIR [--class cast_tile] [--ratio 4]");
const ratio = Number(values.ratio);
if (!(ratio >= 1)) throw new Error(`--ratio must be a number of at least 1, got '${values.ratio}'`);
const cls = values.class!;

/** Column centre of a mask's anomalous pixels, or undefined when it has none. */
async function maskCentre(maskPath: string): Promise<number | undefined> {
  const { data, info } = await sharp(maskPath).greyscale().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i]) (sum += i % info.width), n++;
  return n > 0 ? sum / n : undefined;
}

const root = path.resolve(values.out);
await rm(path.join(root, cls), { recursive: true, force: true });
const [c] = await scanDataset(values.data, { classes: [cls] });
let cut = 0;
for (const t of c!.test) {
  const meta = await sharp(t.path).metadata();
  const width = meta.width!;
  const height = meta.height!;
  const w = Math.min(width, Math.max(1, Math.round(height / ratio)));
  const centre = (t.maskPath ? await maskCentre(t.maskPath) : undefined) ?? width / 2;
  const left = Math.max(0, Math.min(width - w, Math.round(centre - w / 2)));
  const stem = path.parse(t.path).name;
  const dir = path.join(root, cls, "test", t.defect);
  await mkdir(dir, { recursive: true });
  await sharp(t.path).extract({ left, top: 0, width: w, height }).png().toFile(path.join(dir, `${stem}.png`));
  if (t.maskPath) {
    const gt = path.join(root, cls, "ground_truth", t.defect);
    await mkdir(gt, { recursive: true });
    await sharp(t.maskPath).extract({ left, top: 0, width: w, height }).png().toFile(path.join(gt, `${stem}_mask.png`));
  }
  if (w < width) cut++;
}
await mkdir(path.join(root, cls, "train", "good"), { recursive: true });
console.log(`bench:strips — ${c!.test.length} test images of ${cls} as 1:${ratio} strips (${cut} cut), in ${root}`);

const manifest = JSON.parse(await readFile(path.join(values.bundle, "manifest.json"), "utf8")) as BundleManifest;
const detail = manifest.scoring.detail;
const own = detail?.classWeights?.[cls] ?? detail?.weight ?? 0;
const pct = (m: ClassMetrics) => [m.image_auroc, m.pixel_auroc, m.pixel_aupro].map((v) => (v === null ? "–" : (100 * v).toFixed(1)).padStart(5)).join(" / ");
const rows: [string, number | undefined][] = [
  [`served (each strip at the W of the class it is read as)`, undefined],
  [`every strip at ${cls}'s W ${own}`, own],
  [`every strip at W 0 (the main bank alone)`, 0],
];
for (const [label, detailWeight] of rows) {
  const detector = await loadDetector(values.bundle, detailWeight === undefined ? {} : { overrides: { detailWeight } });
  try {
    const r = await evaluate(detector, { data: root, classes: [cls], progressSink: () => {} });
    console.log(`${pct(r.classes[cls]!)}   ${label}`);
  } finally {
    await detector.close();
  }
}
console.log(`image / pixel AUROC / AUPRO, %; mode ${manifest.scoring.mode}`);
