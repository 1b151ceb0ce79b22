/**
 * Which files long training (`lafite train --data`) reads: the bundle's
 * classes' train/good images, fit's held-out files excepted, under the
 * preset's maxDataMB cap as a seeded subset.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { BundleManifest } from "../../src/model/bundle.js";
import { trainingFilesOf } from "../../src/lifecycle/jobs/training-features.js";
import { ErrorCode, LafiteError } from "../../src/util/errors.js";
import { tempDir } from "../support/temp-dir.js";

async function dataset(root: string, classes: Record<string, number>): Promise<void> {
  for (const [name, n] of Object.entries(classes)) {
    const dir = path.join(root, name, "train", "good");
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < n; i++) await writeFile(path.join(dir, `${String(i).padStart(3, "0")}.png`), "not read here");
  }
}

/** The manifest fields trainingFilesOf reads; c×h×w sets the bytes per map against maxDataMB. */
function manifest(classes: string[], holdoutFiles: string[], shape: { c: number; h: number; w: number }, maxDataMB?: number): BundleManifest {
  return {
    provenance: { classes: Object.fromEntries(classes.map((c) => [c, { train: 0, holdout: 0 }])), holdoutFiles },
    config: { seed: 7, diffusion: { preset: "cpu", ...(maxDataMB !== undefined ? { maxDataMB } : {}) } },
    features: shape,
  } as unknown as BundleManifest; // a partial manifest: only the fields under test
}

test("the bundle's classes' train/good images, without fit's held-out files or other classes", async (t) => {
  const root = await tempDir(t);
  await dataset(root, { bolt: 5, cloth: 3, other: 4 });
  const m = manifest(["bolt", "cloth"], ["bolt/train/good/001.png", "cloth/train/good/000.png"], { c: 8, h: 4, w: 4 });
  const picked = await trainingFilesOf(m, root);
  assert.deepEqual(picked.files.map((f) => path.relative(root, f)), [
    "bolt/train/good/000.png", "bolt/train/good/002.png", "bolt/train/good/003.png", "bolt/train/good/004.png",
    "cloth/train/good/001.png", "cloth/train/good/002.png",
  ]);
  assert.deepEqual({ listed: picked.listed, heldOut: picked.heldOut, capped: picked.capped }, { listed: 8, heldOut: 2, capped: 0 });
});

test("over the maxDataMB cap, a seeded subset of the right size, the same on every call", async (t) => {
  const root = await tempDir(t);
  await dataset(root, { bolt: 10 });
  // 2^21 values of 4 bytes = 8 MB a map: the 16 MB cap keeps 2 of 10.
  const m = manifest(["bolt"], [], { c: 2048, h: 32, w: 32 }, 16);
  const a = await trainingFilesOf(m, root);
  const b = await trainingFilesOf(m, root);
  assert.equal(a.files.length, 2);
  assert.equal(a.capped, 8);
  assert.deepEqual(a.files, b.files);
  assert.equal(new Set(a.files).size, 2);
  // The preset's cap applies when the bundle config sets none (cpu: 1024 MB = 128 maps of 8 MB).
  await dataset(root, { bolt: 130 });
  assert.equal((await trainingFilesOf(manifest(["bolt"], [], { c: 2048, h: 32, w: 32 }), root)).files.length, 128);
});

test("a folder with none of the bundle's classes is refused, naming them", async (t) => {
  const root = await tempDir(t);
  await dataset(root, { other: 3 });
  await assert.rejects(trainingFilesOf(manifest(["bolt", "cloth"], [], { c: 8, h: 4, w: 4 }), root), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_DATASET && /none of the bundle's classes \(bolt, cloth\)/.test(e.message));
});

test("a tile bundle (its held-out images tiles) reads its class's images cut into the same tiles, its held-out tiles excepted: the retrain job's trainingData dataset and lafite train --tiles alike", async (t) => {
  const root = await tempDir(t);
  await dataset(root, { sheet: 3 });
  const held = [0, 1, 2, 3].map((i) => `sheet/train/good/001.png::tile(2,${i},0)`);
  const picked = await trainingFilesOf(manifest(["sheet"], held, { c: 8, h: 4, w: 4 }), root);
  assert.deepEqual(picked.files.map((f) => path.relative(root, f)), ["000", "002"].flatMap((n) => [0, 1, 2, 3].map((i) => `sheet/train/good/${n}.png::tile(2,${i},0)`)));
  assert.deepEqual({ listed: picked.listed, heldOut: picked.heldOut, tiles: picked.tiles }, { listed: 12, heldOut: 4, tiles: 2 });
});
