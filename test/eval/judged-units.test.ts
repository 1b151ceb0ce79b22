/**
 * Eval ranks images and pixels relative to the threshold each image was
 * judged by: by hand, as an increasing function, and through `evaluate` with
 * a scripted detector whose good image reads as another class (its score in
 * that class's larger units) and whose good maps are negative (a profiled
 * class's map below its normals' mean).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import sharp from "sharp";
import { pixelsRelativeToThreshold, relativeToThreshold } from "../../src/measures/judged-units.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { auroc } from "../../src/measures/metrics.js";
import { BundleDetector, type ScoredImage } from "../../src/pipeline/bundle-detector.js";
import type { RgbImage } from "../../src/image/decode.js";
import { tempDir } from "../support/temp-dir.js";

test("scores relative to their threshold, by hand", () => {
  assert.equal(relativeToThreshold(6, 4), 0.5);
  assert.equal(relativeToThreshold(2, 4), -0.5);
  assert.equal(relativeToThreshold(8, 4), 1, "twice a positive threshold");
  assert.equal(relativeToThreshold(-3, -2), -0.5, "a negative threshold (spread units) divides by its size");
  assert.equal(relativeToThreshold(5, 0), 5);
  assert.throws(() => relativeToThreshold(1, Number.NaN), /not a finite number/);
  const px = pixelsRelativeToThreshold(new Float32Array([6, 2, 0, -2, 8]), 4);
  // r = 0.5, −0.5 (where the branches meet), −1, −1.5, 1.
  const expected = [1.5, 0.5, 0.5 * Math.exp(-1), 0.5 * Math.exp(-2), 2];
  expected.forEach((e, i) => assert.ok(Math.abs(px[i]! - e) < 1e-6, `pixel ${i}: ${px[i]} against ${e}`));
});

test("pixels relative to their threshold are positive and keep their order, for any threshold", () => {
  fc.assert(
    fc.property(
      fc.float({ min: -50, max: 50, noNaN: true }).filter((t) => t !== 0),
      fc.array(fc.float({ min: -1000, max: 1000, noNaN: true }), { minLength: 2, maxLength: 40 }),
      (t, values) => {
        const sorted = Float32Array.from(values).sort();
        const out = pixelsRelativeToThreshold(sorted, t);
        for (let i = 0; i < out.length; i++) {
          assert.ok(out[i]! >= 0, `${sorted[i]} → ${out[i]}`);
          if (i > 0) assert.ok(out[i]! >= out[i - 1]!, `${sorted[i - 1]} → ${out[i - 1]}, ${sorted[i]} → ${out[i]}`);
        }
      },
    ),
  );
  // The two branches meet with one value and one slope at r = −½.
  const [below, at, above] = pixelsRelativeToThreshold(new Float32Array([1.999, 2, 2.001]), 4);
  assert.ok(Math.abs(at! - 0.5) < 1e-7);
  assert.ok(Math.abs(above! - at! - (at! - below!)) < 1e-6);
});

const SIZE = 8;

/** What the scripted detector answers for the image whose gray level is the key. */
interface Script {
  readonly score: number;
  readonly threshold: number;
  readonly readAs: string;
  /** The map's value on the mask's half (the top rows) and elsewhere. */
  readonly top: number;
  readonly rest: number;
}

test("eval ranks by the judged threshold: an image judged by another class's threshold in its units ranks where its verdict puts it", async (t) => {
  const dir = await tempDir(t);
  const cls = join(dir, "data", "tile");
  // The tiles' own units: threshold 3; the sheet's: threshold 80. One good tile reads as the sheet, scored 60 there (OK).
  const scripts: Record<string, Script & { folder: string }> = {
    g0: { folder: "good", score: 1, threshold: 3, readAs: "tile", top: -1, rest: -0.5 },
    g1: { folder: "good", score: 1.5, threshold: 3, readAs: "tile", top: 0.5, rest: -2 },
    g2: { folder: "good", score: 60, threshold: 80, readAs: "sheet", top: 50, rest: 40 },
    c0: { folder: "crack", score: 4, threshold: 3, readAs: "tile", top: 4, rest: 1 },
    c1: { folder: "crack", score: 5, threshold: 3, readAs: "tile", top: 5, rest: -1 },
    c2: { folder: "crack", score: 6, threshold: 3, readAs: "tile", top: 6, rest: 2 },
  };
  const byLevel = new Map<number, Script>();
  let level = 10;
  for (const [name, s] of Object.entries(scripts)) {
    await mkdir(join(cls, "test", s.folder), { recursive: true });
    await writeFile(join(cls, "test", s.folder, `${name}.png`), await sharp(Buffer.alloc(SIZE * SIZE, level), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
    if (s.folder !== "good") {
      await mkdir(join(cls, "ground_truth", s.folder), { recursive: true });
      const mask = Buffer.alloc(SIZE * SIZE);
      mask.fill(255, 0, (SIZE * SIZE) / 2);
      await writeFile(join(cls, "ground_truth", s.folder, `${name}_mask.png`), await sharp(mask, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer());
    }
    byLevel.set(level, s);
    level += 20;
  }
  const scoreImage = async (image: RgbImage): Promise<ScoredImage> => {
    const s = byLevel.get(image.rgb[0]!);
    if (!s) throw new Error(`no script for gray level ${image.rgb[0]}`);
    const map = new Float32Array(SIZE * SIZE).fill(s.rest);
    map.fill(s.top, 0, (SIZE * SIZE) / 2);
    return { image, map, score: s.score, threshold: s.threshold, class: s.readAs, timings: { decode: 0, backbone: 0, edit: 0, diffusion: 0, score: 0 } };
  };
  // Only what evaluate reads of a detector; the scripted answers stand in for a bundle's.
  const detector = { info: { mode: "knn", inputSize: SIZE, threshold: 3, classThresholds: { tile: 3, sheet: 80 } }, aspect: "stretch", thresholdOf: (c: string) => (c === "sheet" ? 80 : 3), scoreImage, servedMap: BundleDetector.prototype.servedMap } as unknown as BundleDetector;
  const raw: number[] = [];
  const labels: number[] = [];
  const report = await evaluate(detector, { data: join(dir, "data"), onImage: (s) => (raw.push(s.score), labels.push(s.anomalous ? 1 : 0)), log: () => {}, progressSink: () => {} });
  const m = report.classes.tile!;
  assert.deepEqual(report.details.tile!.skipped, [], "negative maps are measured, not skipped");
  assert.equal(m.image_auroc, 1);
  assert.ok(Math.abs(auroc(raw, labels) - 6 / 9) < 1e-12, "ranked by raw scores, the good tile scored in the sheet's units would beat every crack");
  // Pixels: every crack's masked half is above its threshold, every good pixel below its own; raw, the sheet's 40–50 would beat the cracks' 4–6.
  assert.equal(m.pixel_auroc, 1);
  assert.equal(report.verdicts.classes.tile!.flagged, 0);
  assert.equal(report.verdicts.classes.tile!.caught, 3);
});
