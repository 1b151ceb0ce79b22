import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { PRODUCT_CLASSES, synthesizeDataset, type SynthManifest } from "../../../src/image/synth/index.js";
import { listFiles, readPng, tempDir } from "./helpers.js";

test("writes the MVTec AD layout with masks the size of their images", async (t) => {
  const out = await tempDir(t);
  const manifest = await synthesizeDataset({ out, seed: 11, trainPerClass: 2, testGoodPerClass: 1, testPerDefect: 1 });

  const expected = ["manifest.json"];
  for (const cls of PRODUCT_CLASSES) {
    expected.push(`${cls.name}/train/good/000.png`, `${cls.name}/train/good/001.png`, `${cls.name}/test/good/000.png`);
    for (const d of cls.defects) expected.push(`${cls.name}/test/${d.name}/000.png`, `${cls.name}/ground_truth/${d.name}/000_mask.png`);
  }
  assert.deepEqual(await listFiles(out), expected.sort());

  for (const cls of PRODUCT_CLASSES) {
    for (const d of cls.defects) {
      const image = await sharp(path.join(out, cls.name, "test", d.name, "000.png")).metadata();
      const mask = await readPng(path.join(out, cls.name, "ground_truth", d.name, "000_mask.png"));
      assert.equal(image.width, cls.width, `${cls.name}/${d.name} width`);
      assert.equal(image.height, cls.height, `${cls.name}/${d.name} height`);
      assert.equal(mask.width, cls.width);
      assert.equal(mask.height, cls.height);
      assert.equal(mask.channels, 1, "masks are single-channel");
      let marked = 0;
      for (const v of mask.data) {
        assert.ok(v === 0 || v === 255, `mask values are 0 or 255, got ${v}`);
        if (v === 255) marked++;
      }
      const fraction = marked / (cls.width * cls.height);
      assert.ok(fraction > 0.0005, `${cls.name}/${d.name} mask is not empty (${fraction})`);
      assert.ok(fraction <= 0.12, `${cls.name}/${d.name} defect is not huge (${fraction})`);
    }
  }

  const onDisk = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as SynthManifest;
  assert.deepEqual(onDisk, manifest);
  assert.equal(manifest.complete, true);
  assert.equal(manifest.seed, 11);
  assert.equal(manifest.generator, "lafite-synth");
  assert.deepEqual(manifest.counts, { trainPerClass: 2, testGoodPerClass: 1, testPerDefect: 1 });
  assert.deepEqual(
    manifest.classes.map((c) => [c.name, c.width, c.height, c.channels]),
    PRODUCT_CLASSES.map((c) => [c.name, c.width, c.height, c.channels]),
  );
  assert.equal(manifest.totalMasks, PRODUCT_CLASSES.reduce((s, c) => s + c.defects.length, 0));
  assert.equal(manifest.totalImages, PRODUCT_CLASSES.length * 3 + manifest.totalMasks);
});

test("the class catalogue mixes sizes, gray and colour, textures and an object, with four defect kinds each", async (t) => {
  assert.ok(PRODUCT_CLASSES.length >= 3);
  assert.ok(new Set(PRODUCT_CLASSES.map((c) => c.width)).size >= 3, "distinct image sizes");
  assert.ok(PRODUCT_CLASSES.some((c) => c.channels === 1), "a grayscale class");
  assert.ok(PRODUCT_CLASSES.some((c) => c.channels === 3), "a colour class");
  assert.ok(PRODUCT_CLASSES.filter((c) => c.kind === "texture").length >= 2);
  assert.ok(PRODUCT_CLASSES.some((c) => c.kind === "object"));
  for (const c of PRODUCT_CLASSES) {
    assert.deepEqual(new Set(c.defects.map((d) => d.kind)), new Set(["scratch", "hole", "contamination", "color"]), c.name);
  }

  // The stored PNGs keep each class's channel count (gray stays gray, not widened to RGB).
  const out = await tempDir(t);
  await synthesizeDataset({ out, seed: 5, trainPerClass: 1, testGoodPerClass: 0, testPerDefect: 0 });
  for (const c of PRODUCT_CLASSES) {
    const meta = await sharp(path.join(out, c.name, "train", "good", "000.png")).metadata();
    assert.equal(meta.channels, c.channels, `${c.name} channels`);
    assert.equal(meta.width, c.width);
    assert.equal(meta.height, c.height);
  }
});

test("normal images vary and have structure, not flat colour", async () => {
  const { renderSample } = await import("../../../src/image/synth/index.js");
  for (const cls of PRODUCT_CLASSES) {
    const a = renderSample(3, cls, { split: "train", label: "good", index: 0 }).image;
    const b = renderSample(3, cls, { split: "train", label: "good", index: 1 }).image;
    assert.notDeepEqual(a.data, b.data, `${cls.name}: two normal images differ`);
    // Local contrast: mean absolute difference between neighbours, in 8-bit levels, in the
    // busier direction (brushed metal is smooth along its grain and busy across it).
    let mean = 0;
    for (let i = 0; i < a.data.length; i++) mean += a.data[i] as number;
    mean /= a.data.length;
    const contrast = (dx: number, dy: number): number => {
      let sum = 0;
      let n = 0;
      for (let y = 0; y + dy < a.height; y++) {
        for (let x = 0; x + dx < a.width; x++) {
          const o = (y * a.width + x) * a.channels;
          sum += Math.abs((a.data[o] as number) - (a.data[o + (dy * a.width + dx) * a.channels] as number));
          n++;
        }
      }
      return sum / n;
    };
    const busy = Math.max(contrast(1, 0), contrast(0, 1));
    assert.ok(busy > 3, `${cls.name} has texture (neighbour difference ${busy})`);
    assert.ok(mean > 30 && mean < 225, `${cls.name} is exposed sensibly (mean ${mean})`);
  }
});
