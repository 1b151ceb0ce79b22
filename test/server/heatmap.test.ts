import { test } from "node:test";
import assert from "node:assert/strict";
import sharp from "sharp";
import { heatmapRgba, overlayHeatmap, renderHeatmapPng, renderMaskPng } from "../../src/image/heatmap.js";

test("the heatmap scale puts the threshold mid-scale: 0 is blue, 2×threshold is red, alpha grows", () => {
  const px = heatmapRgba(Float32Array.from([0, 0.5, 1, 5]), 4, 1, 0.5);
  const at = (i: number) => Array.from(px.subarray(4 * i, 4 * i + 4));
  const [r0, g0, b0, a0] = at(0);
  assert.ok(b0! > r0! && b0! > g0!, `0 is blue: ${at(0)}`);
  const [r2, g2, b2, a2] = at(2);
  assert.ok(r2! > g2! && r2! > b2!, `2×threshold is red: ${at(2)}`);
  assert.deepEqual(at(3), at(2), "values above the top clamp");
  assert.ok(a2! > a0!);
  const [, g1] = at(1);
  assert.ok(g1! > 200, `threshold is green-ish: ${at(1)}`);
});

test("heatmap and mask PNGs are at the map's size; the overlay matches the image", async () => {
  const map = new Float32Array(20 * 10);
  map[5 * 20 + 7] = 1;
  const heat = await renderHeatmapPng(map, 20, 10, 0.25);
  const meta = await sharp(heat).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ["png", 20, 10, 4]);
  const mask = await sharp(await renderMaskPng(map, 20, 10, 0.25)).raw().toBuffer({ resolveWithObject: true });
  assert.equal(mask.info.width, 20);
  const on = [...mask.data].filter((v, i) => i % mask.info.channels === 0 && v === 255).length;
  assert.equal(on, 1);
  const image = await sharp(Buffer.alloc(20 * 10 * 3, 128), { raw: { width: 20, height: 10, channels: 3 } }).jpeg().toBuffer();
  const over = await sharp(await overlayHeatmap(image, heat)).metadata();
  assert.deepEqual([over.width, over.height], [20, 10]);
});
