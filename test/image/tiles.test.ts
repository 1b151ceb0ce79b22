import { test } from "node:test";
import assert from "node:assert/strict";
import { cropImage, stitchMaps, tileRects } from "../../src/image/tiles.js";

test("k×k tiles without overlap split each axis evenly, the last tile ending at the frame's edge", () => {
  assert.deepEqual(tileRects(10, 7, 2), [
    { left: 0, top: 0, width: 5, height: 4 },
    { left: 5, top: 0, width: 5, height: 4 },
    { left: 0, top: 4, width: 5, height: 3 },
    { left: 5, top: 4, width: 5, height: 3 },
  ]);
});

test("overlapping tiles: 3 spans of 8 pixels at half overlap are 4 wide and start every 2", () => {
  // side t = 8 / (3 − 2·0.5) = 4; starts 0, 2, 4.
  const rects = tileRects(8, 8, 3, 0.5);
  assert.deepEqual(rects.slice(0, 3).map((r) => [r.left, r.width]), [[0, 4], [2, 4], [4, 4]]);
  assert.deepEqual(rects.filter((_, i) => i % 3 === 0).map((r) => [r.top, r.height]), [[0, 4], [2, 4], [4, 4]]);
  // 1024 px, 4 tiles, a quarter overlap: t = 1024 / 3.25 ≈ 315.08; every tile the same size but for rounding, the last ending at 1024.
  const big = tileRects(1024, 1024, 4, 0.25).slice(0, 4);
  assert.deepEqual(big.map((r) => r.left), [0, 236, 473, 709]);
  assert.equal(big[3]!.left + big[3]!.width, 1024);
  for (const r of big) assert.ok(Math.abs(r.width - 315) <= 1);
});

test("bad tilings are refused", () => {
  assert.throws(() => tileRects(10, 10, 0), /positive integer/);
  assert.throws(() => tileRects(10, 10, 2, 0.6), /overlap/);
  assert.throws(() => tileRects(3, 10, 4), /cannot be cut/);
});

test("a crop keeps its rectangle's pixels", () => {
  const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => i);
  const crop = cropImage({ width: 4, height: 3, rgb, gray: false }, { left: 1, top: 1, width: 2, height: 2 });
  // Pixel (x, y) starts at byte (y·4 + x)·3.
  assert.deepEqual([...crop.rgb], [15, 16, 17, 18, 19, 20, 27, 28, 29, 30, 31, 32]);
  assert.equal(crop.width, 2);
  assert.equal(crop.gray, false);
});

test("stitched maps: each tile's values in place, overlaps averaged", () => {
  const a = { left: 0, top: 0, width: 2, height: 1 };
  const b = { left: 1, top: 0, width: 2, height: 1 };
  const map = stitchMaps(3, 1, [
    { rect: a, map: Float32Array.of(1, 3) },
    { rect: b, map: Float32Array.of(5, 7) },
  ]);
  assert.deepEqual([...map], [1, 4, 7]);
  assert.throws(() => stitchMaps(3, 1, [{ rect: a, map: Float32Array.of(1, 3) }]), /in no tile/);
  assert.throws(() => stitchMaps(3, 1, [{ rect: a, map: Float32Array.of(1) }]), /map of 1 values/);
});
