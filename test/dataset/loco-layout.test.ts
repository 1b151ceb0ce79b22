import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { readMask } from "../../src/dataset/masks.js";
import { splitTraining } from "../../src/pipeline/fit.js";
import { parseModelConfig } from "../../src/model/model-config.js";

/** A w×h grayscale PNG, 255 inside [x0, x1) × [y0, y1), `value` elsewhere. */
function maskPng(w: number, h: number, x0: number, y0: number, x1: number, y1: number, value = 0): Promise<Buffer> {
  const px = Buffer.alloc(w * h, value);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) px[y * w + x] = 255;
  return sharp(px, { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
}

test("MVTec LOCO layout: a folder of masks per image is found, united, and an empty one counts as missing", async () => {
  const root = await mkdtemp(join(tmpdir(), "lafite-loco-"));
  try {
    const base = join(root, "juice_bottle");
    await mkdir(join(base, "train", "good"), { recursive: true });
    await writeFile(join(base, "train", "good", "000.png"), "x");
    await mkdir(join(base, "test", "logical_anomalies"), { recursive: true });
    for (const stem of ["000", "001", "002"]) await writeFile(join(base, "test", "logical_anomalies", `${stem}.png`), "x");
    const gt = join(base, "ground_truth", "logical_anomalies");
    await mkdir(join(gt, "000"), { recursive: true });
    await writeFile(join(gt, "000", "000.png"), await maskPng(6, 4, 0, 0, 2, 2));
    await writeFile(join(gt, "000", "001.png"), await maskPng(6, 4, 4, 2, 6, 4));
    await mkdir(join(gt, "001"), { recursive: true }); // empty: no mask
    await writeFile(join(gt, "002_mask.png"), await maskPng(6, 4, 1, 1, 2, 2)); // the MVTec AD naming still works beside it

    const [cls] = await scanDataset(root);
    const byStem = Object.fromEntries(cls!.test.map((t) => [t.path.split("/").pop(), t.maskPath]));
    assert.equal(byStem["000.png"], join(gt, "000"));
    assert.equal(byStem["001.png"], undefined);
    assert.equal(byStem["002.png"], join(gt, "002_mask.png"));
    assert.deepEqual(cls!.missingMasks, [join(base, "test", "logical_anomalies", "001.png")]);

    const united = await readMask(join(gt, "000"));
    assert.equal(united.width, 6);
    assert.equal(united.height, 4);
    // Rows of the 6×4 union: the first mask's top-left 2×2 and the second's bottom-right 2×2.
    assert.deepEqual(Array.from(united.mask), [1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1]);
    const single = await readMask(join(gt, "002_mask.png"));
    assert.equal(single.mask.reduce((a, b) => a + b, 0), 1);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("a mask folder whose masks differ in size is refused with both sizes named", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-loco-"));
  try {
    await writeFile(join(dir, "000.png"), await maskPng(6, 4, 0, 0, 1, 1));
    await writeFile(join(dir, "001.png"), await maskPng(5, 4, 0, 0, 1, 1));
    await assert.rejects(readMask(dir), /001\.png .* is 5×4, the folder's first is 6×4/);
    const empty = join(dir, "empty");
    await mkdir(empty);
    await assert.rejects(readMask(empty), /holds no mask/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("MVTec LOCO layout: validation/good is the held-out set, and every train/good image goes into the bank", async () => {
  const root = await mkdtemp(join(tmpdir(), "lafite-loco-"));
  try {
    for (const [name, folders] of [["juice_bottle", ["train", "validation"]], ["pushpins", ["train"]]] as const) {
      for (const f of folders) await mkdir(join(root, name, f, "good"), { recursive: true });
      for (let i = 0; i < 20; i++) await writeFile(join(root, name, "train", "good", `${String(i).padStart(3, "0")}.png`), "x");
    }
    for (const stem of ["000", "001", "002"]) await writeFile(join(root, "juice_bottle", "validation", "good", `${stem}.png`), "x");
    const [juice, pins] = await scanDataset(root);
    const t = parseModelConfig({}).threshold;
    assert.deepEqual(juice!.validation.map((p) => p.split("/").slice(-3).join("/")), ["validation/good/000.png", "validation/good/001.png", "validation/good/002.png"]);
    const j = splitTraining(juice!, t);
    assert.equal(j.by, "validation");
    assert.deepEqual(j.bank, juice!.train);
    assert.deepEqual(j.heldOut, juice!.validation);
    // Without the folder: the share of train/good (2 of 20, evenly spaced: 005 and 015).
    assert.deepEqual(pins!.validation, []);
    const p = splitTraining(pins!, t);
    assert.equal(p.by, "share");
    assert.deepEqual(p.heldOut.map((x) => x.split("/").pop()), ["005.png", "015.png"]);
    assert.equal(p.bank.length, 18);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
