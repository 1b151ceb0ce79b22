/**
 * Tiling large frames (tileSide): the tiles against hand-computed
 * rectangles, masks into one tile's input, a tiled map put back together,
 * and how a tiled frame's views are grouped and scored.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { maskToInput, tilesOf } from "../../src/image/geometry.js";
import { tiledMapToFrame } from "../../src/pipeline/bundle-detector.js";
import { frameScore } from "../../src/model/scoring/anomaly-map.js";
import { framesOf } from "../../src/pipeline/tune/score-set.js";

test("tilesOf: ceil(side / tileSide) tiles per axis, edges at round(i·W / n), row-major; one tile without a side or when the frame fits", () => {
  assert.deepEqual(tilesOf(1024, 1024, 512), [
    { x: 0, y: 0, w: 512, h: 512 },
    { x: 512, y: 0, w: 512, h: 512 },
    { x: 0, y: 512, w: 512, h: 512 },
    { x: 512, y: 512, w: 512, h: 512 },
  ]);
  // A tall 400×800 frame becomes two squares, a 630-wide tile two halves of 315.
  assert.deepEqual(tilesOf(400, 800, 512), [{ x: 0, y: 0, w: 400, h: 400 }, { x: 0, y: 400, w: 400, h: 400 }]);
  assert.deepEqual(tilesOf(630, 400, 512), [{ x: 0, y: 0, w: 315, h: 400 }, { x: 315, y: 0, w: 315, h: 400 }]);
  assert.deepEqual(tilesOf(512, 300, 512), [{ x: 0, y: 0, w: 512, h: 300 }]);
  assert.deepEqual(tilesOf(5000, 10), [{ x: 0, y: 0, w: 5000, h: 10 }]);
  // 5×3 by 2: x edges 0, 2 (1.67), 3 (3.33), 5; y edges 0, 2 (1.5), 3.
  assert.deepEqual(tilesOf(5, 3, 2).map((t) => [t.x, t.y, t.w, t.h]), [
    [0, 0, 2, 2], [2, 0, 1, 2], [3, 0, 2, 2],
    [0, 2, 2, 1], [2, 2, 1, 1], [3, 2, 2, 1],
  ]);
});

test("tilesOf covers every pixel exactly once, and no tile side exceeds tileSide", () => {
  for (const [W, H, side] of [[1023, 777, 100], [97, 1601, 96], [640, 480, 224], [1, 1, 32]] as const) {
    const hits = new Uint8Array(W * H);
    for (const t of tilesOf(W, H, side)) {
      assert.ok(t.w >= 1 && t.h >= 1 && t.w <= side && t.h <= side, `${W}×${H}/${side}: ${JSON.stringify(t)}`);
      for (let y = t.y; y < t.y + t.h; y++) for (let x = t.x; x < t.x + t.w; x++) hits[y * W + x]!++;
    }
    assert.ok(hits.every((n) => n === 1), `${W}×${H} by ${side}`);
  }
});

test("maskToInput with a tile places that tile's part of the mask only", () => {
  // 4×2 frame, right 2×2 tile; its mask pixels (2,0) and (3,1) → S = 2 stretch: the tile itself.
  const mask = Uint8Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
  assert.deepEqual([...maskToInput(mask, { width: 4, height: 2 }, 2, "stretch", { x: 2, y: 0, w: 2, h: 2 })], [1, 0, 0, 1]);
  assert.deepEqual([...maskToInput(mask, { width: 4, height: 2 }, 2, "stretch", { x: 0, y: 0, w: 2, h: 2 })], [1, 0, 0, 1]);
  // S = 4: each tile pixel becomes a 2×2 block.
  const placed = maskToInput(mask, { width: 4, height: 2 }, 4, "stretch", { x: 2, y: 0, w: 2, h: 2 });
  assert.deepEqual([...placed], [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1]);
});

test("tiledMapToFrame puts each tile's map on its rectangle, at the frame's size or scaled", () => {
  const S = 4;
  const tiles = [
    { tile: { x: 0, y: 0, w: 8, h: 4 }, map: new Float32Array(S * S).fill(1) },
    { tile: { x: 8, y: 0, w: 8, h: 4 }, map: new Float32Array(S * S).fill(2) },
  ];
  const frame = { width: 16, height: 4 };
  const full = tiledMapToFrame(tiles, S, frame, frame, "stretch");
  assert.equal(full.length, 64);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 16; x++) assert.equal(full[y * 16 + x], x < 8 ? 1 : 2, `(${x},${y})`);
  // A quarter-size output (a thumbnail): 4×1, left two 1, right two 2.
  assert.deepEqual([...tiledMapToFrame(tiles, S, frame, { width: 4, height: 1 }, "stretch")], [1, 1, 2, 2]);
  // A tile's spatial detail survives: a map with its right column hot lights the tile's right edge only.
  const edge = new Float32Array(S * S);
  for (let y = 0; y < S; y++) edge[y * S + S - 1] = 5;
  const lit = tiledMapToFrame([tiles[0]!, { tile: tiles[1]!.tile, map: edge }], S, frame, frame, "stretch");
  assert.equal(lit[15], 5);
  assert.equal(lit[8], 0);
});

test("a tiled frame scores as its most anomalous tile; views group into frames by their frame number", () => {
  assert.equal(frameScore([0.2, 0.9, 0.4]), 0.9);
  assert.equal(frameScore([3]), 3);
  assert.throws(() => frameScore([]));
  const set = [
    { cls: "a", anomalous: true, frame: 0 },
    { cls: "a", anomalous: true, frame: 0 },
    { cls: "a", anomalous: false, frame: 1 },
    { cls: "b", anomalous: false },
    { cls: "b", anomalous: true },
  ];
  assert.deepEqual(framesOf(set), [
    { cls: "a", anomalous: true, views: [0, 1] },
    { cls: "a", anomalous: false, views: [2] },
    { cls: "b", anomalous: false, views: [3] },
    { cls: "b", anomalous: true, views: [4] },
  ]);
});
