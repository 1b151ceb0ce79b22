/**
 * A frame's class as a scorer reads it: by the class means when the model
 * has them (memory/class-means.ts), by its cells' nearest rows otherwise,
 * and the threshold, detail weight and shares that follow from the reading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openScorer } from "../../src/pipeline/open-scorer.js";
import { classMeansOf, frameMean } from "../../src/model/memory/class-means.js";
import { UNTAGGED } from "../../src/model/memory/row-classes.js";
import { bankParts } from "../support/bank-parts.js";
import type { FeatureMap } from "../../src/model/types.js";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle, writeBundle } from "../../src/model/bundle.js";
import { BackboneRunner, sessionOptions } from "../../src/model/backbone-runner.js";
import { standardizeInPlace } from "../../src/model/feature-stats.js";
import { frameFitOf } from "../../src/image/geometry.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { createRng } from "../../src/model/diffusion/prng.js";
import { LafiteError, ErrorCode } from "../../src/util/errors.js";
import { tempDir } from "../support/temp-dir.js";

const S = 4;
const settings = { mapSize: S, sigma: 1, pool: 1, k: 1, tau: 20, deltaT: 20, eta: 0 };
/** A 1×2×2 map from its four cells (channel 1 all 0, so the means have a dead channel). */
const cells = (v: number[]): FeatureMap => ({ data: Float32Array.from([...v, 0, 0, 0, 0]), c: 2, h: 2, w: 2 });

// Class a's frames are half 0, half 4 (mean 2); class b's are all 1 (mean 1).
const bank = [cells([0, 0, 4, 4]), cells([1, 1, 1, 1])];
// Three of its cells match b's rows exactly, one is nearest a's 4: its cells vote b 3 to 1, its mean (2) is a's.
const query = cells([1, 1, 1, 5]);

test("with class means a frame is read by its mean look, where its cells' votes name another class", async () => {
  const parts = bankParts(bank, (i) => i, ["a", "b"]);
  const classMeans = classMeansOf(bank.map(frameMean), ["a", "b"]);
  const byVotes = await openScorer("knn", parts, settings, {});
  const byMeans = await openScorer("knn", { ...parts, classMeans }, settings, {});
  try {
    const v = await byVotes.scorer.score(query);
    assert.equal(v.class, "b");
    assert.deepEqual(v.classShares, { a: 0.25, b: 0.75 });
    const m = await byMeans.scorer.score(query);
    assert.equal(m.class, "a");
    assert.equal(m.judgedAs, "a");
    // The shares stay the cells' votes: they say how alike the two classes look cell by cell.
    assert.deepEqual(m.classShares, { a: 0.25, b: 0.75 });
    // The reading changes no anomaly value, only what the frame is judged as.
    assert.deepEqual(m.map, v.map);
    // A class tag still judges the frame as the tag.
    assert.equal((await byMeans.scorer.score(query, "b")).judgedAs, "b");
    // A bank frame of either class reads as its own either way.
    for (const scorer of [byVotes.scorer, byMeans.scorer]) assert.deepEqual(await Promise.all(bank.map(async (x) => (await scorer.score(x)).class)), ["a", "b"]);
  } finally {
    await byVotes.release();
    await byMeans.release();
  }
});

test("class means that miss a class the rows vote for leave the reading to the votes; untagged rows need no mean", async () => {
  const third = cells([9, 9, 9, 9]);
  const partsOf = (names: string[]) => bankParts([...bank, third], (i) => i, names);
  // The refresh added rows of class c but no mean for it (a bundle edited by hand): the votes read every frame, as before the means.
  const partial = await openScorer("knn", { ...partsOf(["a", "b", "c"]), classMeans: classMeansOf(bank.map(frameMean), ["a", "b"]) }, settings, {});
  // Rows from untagged frames vote for no class, so means of a and b cover the bank: the means read.
  const untagged = await openScorer("knn", { ...partsOf(["a", "b", UNTAGGED]), classMeans: classMeansOf(bank.map(frameMean), ["a", "b"]) }, settings, {});
  try {
    assert.equal((await partial.scorer.score(query)).class, "b");
    assert.equal((await partial.scorer.score(third)).class, "c");
    assert.equal((await untagged.scorer.score(query)).class, "a");
  } finally {
    await partial.release();
    await untagged.release();
  }
});

test("positionScores: frameClass by the means, classVotes as the cells counted them", async () => {
  const parts = { ...bankParts(bank, (i) => i, ["a", "b"]), classMeans: classMeansOf(bank.map(frameMean), ["a", "b"]) };
  const knn = await openScorer("knn", parts, settings, {});
  try {
    const p = await knn.scorer.positionScores(query, 0);
    assert.equal(p.frameClass, 0);
    assert.deepEqual([...p.classVotes!], [1, 3]);
  } finally {
    await knn.release();
  }
});

test("fit stores each class's mean of its bank images' frame means, which a slow reference recomputes; malformed means are refused at load", async (t) => {
  const dir = await tempDir(t);
  // Two classes of one look but another brightness, 6 frames each (one of each held out).
  for (const [cls, offset] of [["dark", -30], ["light", 30]] as const) {
    const good = join(dir, "data", cls, "train", "good");
    await mkdir(good, { recursive: true });
    for (let i = 0; i < 6; i++) await writeFile(join(good, `${i}.png`), await shiftedFrame(i + (offset > 0 ? 100 : 0), offset));
  }
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" }, threshold: { holdout: 0.2 } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const fitted = await readBundle(out);
  const m = fitted.manifest;
  const means = m.memory.classMeans!;
  // The reference: every bank image through the bundle's backbone, standardized by its statistics, averaged over the frame's cells, then per class.
  const backbone = await BackboneRunner.open(fitted.file(m.backbone.file), m.backbone.inputSize, sessionOptions("cpu", 1), frameFitOf(m.backbone));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  const held = new Set(m.provenance.holdoutFiles);
  const frames: { cls: string; mean: number[] }[] = [];
  try {
    for (const cls of ["dark", "light"]) {
      for (let i = 0; i < 6; i++) {
        if (held.has(`${cls}/train/good/${i}.png`)) continue;
        const image = await decodeEncoded(await readFile(join(dir, "data", cls, "train", "good", `${i}.png`)));
        const [x] = await backbone.run(await backbone.input(image), 1, [image]);
        standardizeInPlace(x!, stats);
        const r = x!.frame!;
        assert.ok(r.y1 - r.y0 < x!.h, "the frame shows in part of the grid");
        const plane = x!.h * x!.w;
        frames.push({ cls, mean: Array.from({ length: x!.c }, (_, ch) => {
          let s = 0;
          for (let y = r.y0; y < r.y1; y++) for (let xx = r.x0; xx < r.x1; xx++) s += x!.data[ch * plane + y * x!.w + xx]!;
          return s / ((r.y1 - r.y0) * (r.x1 - r.x0));
        }) });
      }
    }
  } finally {
    await backbone.release();
  }
  assert.equal(held.size, 2);
  for (const cls of ["dark", "light"]) {
    const own = frames.filter((f) => f.cls === cls);
    assert.equal(means.classes[cls]!.count, own.length);
    means.classes[cls]!.mean.forEach((v, ch) => assert.ok(Math.abs(v - own.reduce((s, f) => s + f.mean[ch]!, 0) / own.length) < 1e-4, `${cls}[${ch}]`));
  }
  means.spread.forEach((v, ch) => {
    const all = frames.map((f) => f.mean[ch]!);
    const mu = all.reduce((a, b) => a + b, 0) / all.length;
    assert.ok(Math.abs(v - Math.sqrt(all.reduce((a, b) => a + (b - mu) ** 2, 0) / all.length)) < 1e-4, `spread[${ch}]`);
  });
  // The held-out frames read as their classes.
  const detector = await loadDetector(out, { intraOpThreads: 1 });
  try {
    for (const file of held) assert.equal((await detector.scoreImage(await decodeEncoded(await readFile(join(dir, "data", file))))).class, file.split("/")[0]);
  } finally {
    await detector.close();
  }
  // A malformed mean refuses the bundle.
  const files = Object.fromEntries(Object.keys(m.files).map((name) => [name, fitted.file(name)]));
  const { files: _hashes, ...rest } = m;
  const bad = join(dir, "bad");
  await writeBundle(bad, { ...rest, memory: { ...rest.memory, classMeans: { ...means, classes: { ...means.classes, dark: { count: 5, mean: means.classes.dark!.mean.slice(1) } } } } }, files, true);
  await assert.rejects(loadDetector(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /class mean of 'dark': \d+ channels, the features have \d+/.test(e.message));
});

/** A 64×32 PNG of gray stripes with noise, `offset` levels brighter: letterboxed, so only some cells show it. */
async function shiftedFrame(seed: number, offset: number): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(64 * 32 * 3);
  for (let i = 0; i < 64 * 32; i++) rgb.fill(Math.round(120 + offset + 40 * Math.sin(i / 7) + 20 * (rng.next() - 0.5)), 3 * i, 3 * i + 3);
  return sharp(rgb, { raw: { width: 64, height: 32, channels: 3 } }).png().toBuffer();
}
