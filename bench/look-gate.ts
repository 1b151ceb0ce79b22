/**
 * `npm run bench:look -- --bundle B --data DIR [--mode M] [--margin X] [--seed S]`:
 * the look gate (a frame like none of the model's classes is NG whatever its
 * score) on a data set and on frames that are no product at all.
 *
 * Prints, per class, its reach, its light range and the largest look ratio
 * (and light ratio) of its good and its defective test frames, and how many of each the gate judges unlike
 * (the ones it would turn from OK to NG are what it costs); then frames no
 * line should pass, made here: uniform frames (an empty backlit station, a
 * covered lens, a failed or saturated light), noise, faint noise on gray, and
 * each class's first good test frame blurred out of focus (σ 8 and 2 px),
 * under a fifth of its light, at 70 % of it, 25 and 60 levels brighter. For
 * each, its verdict by score, its look ratio and its light ratio, and in the end how many passed OK by their
 * score alone against how many still pass with the gate.
 */
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { DEFAULT_UNLIKE_MARGIN, loadDetector } from "../src/pipeline/load.js";
import { lightRangeText } from "../src/model/memory/class-means.js";
import { SCORING_MODES, type ScoringMode } from "../src/model/types.js";
import { createRng } from "../src/util/random.js";
import type { BundleManifest } from "../src/model/bundle.js";

const USAGE = "usage: npm run bench:look -- --bundle B --data DIR [--mode M] [--margin X] [--seed S]";
const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, mode: { type: "string" }, margin: { type: "string" }, seed: { type: "string" } } });
if (!values.bundle || !values.data) throw new Error(USAGE);
if (values.mode !== undefined && !(SCORING_MODES as readonly string[]).includes(values.mode)) throw new Error(`--mode must be one of ${SCORING_MODES.join(", ")}`);
const margin = values.margin !== undefined ? Number(values.margin) : DEFAULT_UNLIKE_MARGIN;
const rng = createRng(Number(values.seed ?? 1));
const detector = await loadDetector(values.bundle, { ...(values.mode ? { mode: values.mode as ScoringMode } : {}), unlikeMargin: margin });
const manifest = JSON.parse(await readFile(join(values.bundle, "manifest.json"), "utf8")) as BundleManifest;
const reaches = manifest.memory.classMeans?.classes ?? {};
if (detector.info.unlikeMargin === undefined) console.log(`note: ${margin === 0 ? "margin 0: the gate is off" : "the bundle has no class reaches (fitted before them): no gate"}; ratios are shown where known`);
const fixed = (v: number | undefined, d = 2) => (v === undefined || !Number.isFinite(v) ? "-" : v.toFixed(d));

try {
  const classes = (await readdir(values.data, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  console.log(`mode ${detector.info.mode}, unlike margin ${margin}`);
  console.log(`${"class".padEnd(14)} ${"reach".padStart(7)} ${"light (r/g/b)".padStart(24)}  ${"good: max ratio, light, unlike".padStart(31)}  ${"defects: max ratio, light, unlike".padStart(34)}`);
  const firstGood: { cls: string; bytes: Buffer }[] = [];
  let flippedGood = 0;
  let flippedDefects = 0;
  for (const cls of classes) {
    const testDir = join(values.data, cls, "test");
    const kinds = await readdir(testDir).catch(() => [] as string[]);
    const tally = { good: { max: -Infinity, light: -Infinity, unlike: 0, n: 0 }, defects: { max: -Infinity, light: -Infinity, unlike: 0, n: 0 } };
    for (const kind of kinds.sort()) {
      const files = (await readdir(join(testDir, kind))).filter((f) => /\.(png|jpe?g|bmp|tiff?|webp)$/i.test(f)).sort();
      for (const f of files) {
        const bytes = await readFile(join(testDir, kind, f));
        if (kind === "good" && !firstGood.some((g) => g.cls === cls)) firstGood.push({ cls, bytes });
        const d = await detector.detect({ kind: "encoded", bytes });
        const t = kind === "good" ? tally.good : tally.defects;
        t.n++;
        t.max = Math.max(t.max, d.lookRatio ?? -Infinity);
        t.light = Math.max(t.light, d.lightRatio ?? -Infinity);
        if (d.unlike) {
          t.unlike++;
          // What the gate costs or adds: frames its score alone would have passed.
          if (!d.isAnomalous) kind === "good" ? flippedGood++ : flippedDefects++;
        }
      }
    }
    const cell = (t: { max: number; light: number; unlike: number; n: number }) => `${fixed(t.max)}, ${fixed(t.light)}, ${t.unlike}/${t.n}`;
    const light = reaches[cls]?.light;
    const range = light ? lightRangeText(light) : "-";
    console.log(`${cls.padEnd(14)} ${fixed(reaches[cls]?.reach, 3).padStart(7)} ${range.padStart(24)}  ${cell(tally.good).padStart(31)}  ${cell(tally.defects).padStart(34)}`);
  }
  console.log(`the gate turned ${flippedGood} good frames from OK to NG (false alarms it adds) and ${flippedDefects} defects (missed by their score, caught by their look)`);

  const odd: { name: string; bytes: Buffer }[] = [];
  const raw = (w: number, h: number, pixel: () => number) => sharp(Buffer.from(Array.from({ length: w * h * 3 }, pixel)), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  for (const [w, h] of [[256, 256], [1024, 768]] as const) {
    for (const v of [0, 30, 128, 160, 200, 255]) odd.push({ name: `uniform ${v}, ${w}×${h}`, bytes: await sharp({ create: { width: w, height: h, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer() });
    odd.push({ name: `noise, ${w}×${h}`, bytes: await raw(w, h, () => Math.floor(rng.next() * 256)) });
    odd.push({ name: `faint noise on 140, ${w}×${h}`, bytes: await raw(w, h, () => 140 + Math.round(6 * (rng.next() - 0.5))) });
  }
  for (const { cls, bytes } of firstGood) {
    odd.push({ name: `${cls} blurred σ 8`, bytes: await sharp(bytes).blur(8).png().toBuffer() });
    odd.push({ name: `${cls} blurred σ 2`, bytes: await sharp(bytes).blur(2).png().toBuffer() });
    odd.push({ name: `${cls} at a fifth of its light`, bytes: await sharp(bytes).linear(0.2, 0).png().toBuffer() });
    odd.push({ name: `${cls} at 70 % of its light`, bytes: await sharp(bytes).linear(0.7, 0).png().toBuffer() });
    odd.push({ name: `${cls} 25 levels brighter`, bytes: await sharp(bytes).linear(1, 25).png().toBuffer() });
    odd.push({ name: `${cls} 60 levels brighter`, bytes: await sharp(bytes).linear(1, 60).png().toBuffer() });
  }
  console.log("\nframes that are no product (or a product no line should pass):");
  let passedByScore = 0;
  let passedWithGate = 0;
  for (const { name, bytes } of odd) {
    const d = await detector.detect({ kind: "encoded", bytes });
    if (!d.isAnomalous) passedByScore++;
    if (!d.isAnomalous && !d.unlike) passedWithGate++;
    console.log(`${name.padEnd(36)} score ${d.isAnomalous ? "NG" : "OK"} (${fixed(d.score)} against ${fixed(d.threshold)}), look ${fixed(d.lookRatio)} reaches from ${d.class ?? "-"}, light ${fixed(d.lightRatio)}${d.unlike ? ": unlike any class, NG" : ""}`);
  }
  console.log(`\n${passedByScore} of ${odd.length} passed OK by their score alone; ${passedWithGate} with the look gate (ratio ${passedByScore === 0 ? "-" : (passedWithGate / passedByScore).toFixed(2)})`);
} finally {
  await detector.close();
}
