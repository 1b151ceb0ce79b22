import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { readMask } from "../../src/dataset/masks.js";

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
