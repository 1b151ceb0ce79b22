import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { cropImage, parseTileRef, stitchMaps, tileRects, tileRefPath, tileRefsOf } from "../../src/image/tiles.js";
import { readImageFile } from "../../src/image/read-image-file.js";
import { tempDir } from "../support/temp-dir.js";

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

test("a tile reference names one tile of a file and parses back; a plain path is none; an impossible tile is refused", () => {
  const path = tileRefPath({ file: "/data/sheet/train/good/0.png", k: 4, index: 13, overlap: 0.25 });
  assert.equal(path, "/data/sheet/train/good/0.png::tile(4,13,0.25)");
  assert.deepEqual(parseTileRef(path), { file: "/data/sheet/train/good/0.png", k: 4, index: 13, overlap: 0.25 });
  assert.equal(parseTileRef("/data/sheet/train/good/0.png"), undefined);
  assert.throws(() => parseTileRef("/a.png::tile(2,4,0)"), /no such tile/);
  assert.throws(() => parseTileRef("/a.png::tile(2,1,0.7)"), /no such tile/);
  assert.deepEqual(tileRefsOf("/a.png", 2, 0), ["/a.png::tile(2,0,0)", "/a.png::tile(2,1,0)", "/a.png::tile(2,2,0)", "/a.png::tile(2,3,0)"]);
});

test("readImageFile reads a tile reference as that tile of the decoded file, and a plain path as the file", async (t) => {
  const dir = await tempDir(t);
  const [w, h] = [9, 6];
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37) % 251;
  const file = join(dir, "f.png");
  await writeFile(file, await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
  const whole = await readImageFile(file);
  assert.deepEqual([whole.image.width, whole.image.height], [w, h]);
  assert.deepEqual(Buffer.from(whole.image.rgb), raw);
  // Tile 3 of 2×2: the bottom right one, x 5..8 and y 3..5 (spans of 9 → 5 + 4 and of 6 → 3 + 3).
  const tile = await readImageFile(tileRefPath({ file, k: 2, index: 3, overlap: 0 }));
  assert.deepEqual(tile.bytes, whole.bytes);
  assert.deepEqual([tile.image.width, tile.image.height], [4, 3]);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) for (let ch = 0; ch < 3; ch++) {
    assert.equal(tile.image.rgb[(y * 4 + x) * 3 + ch], raw[((y + 3) * w + x + 5) * 3 + ch]);
  }
  await assert.rejects(readImageFile(`${join(dir, "missing.png")}::tile(2,0,0)`), /ENOENT/);
});
