import { test } from "node:test";
import assert from "node:assert/strict";
import { findRegions } from "../../src/pipeline/regions.js";

/** A map from rows of characters: '.' = 0, digits = that value. */
function mapOf(rows: string[]): { map: Float32Array; w: number; h: number } {
  const w = rows[0]!.length, h = rows.length;
  const map = new Float32Array(w * h);
  rows.forEach((row, y) => [...row].forEach((c, x) => (map[y * w + x] = c === "." ? 0 : Number(c))));
  return { map, w, h };
}

test("diagonal neighbours join one region (8-connectivity); bbox, area and peak are exact", () => {
  const { map, w, h } = mapOf([
    "......",
    ".3....",
    "..5...",
    "...2..",
    "......",
  ]);
  assert.deepEqual(findRegions(map, w, h, 1), [{ x: 1, y: 1, width: 3, height: 3, area: 3, peakScore: 5 }]);
});

test("separate blobs are separate regions, highest peak first; values equal to the threshold are not above it", () => {
  const { map, w, h } = mapOf([
    "22..9.",
    "22..9.",
    "......",
    "1...33",
  ]);
  const regions = findRegions(map, w, h, 1);
  assert.deepEqual(regions, [
    { x: 4, y: 0, width: 1, height: 2, area: 2, peakScore: 9 },
    { x: 4, y: 3, width: 2, height: 1, area: 2, peakScore: 3 },
    { x: 0, y: 0, width: 2, height: 2, area: 4, peakScore: 2 },
  ]);
});

test("a U shape is one region, and options cap the count and drop small specks", () => {
  const { map, w, h } = mapOf([
    "5...5.7",
    "5...5..",
    "55555..",
  ]);
  assert.deepEqual(findRegions(map, w, h, 0), [
    { x: 6, y: 0, width: 1, height: 1, area: 1, peakScore: 7 },
    { x: 0, y: 0, width: 5, height: 3, area: 9, peakScore: 5 },
  ]);
  assert.deepEqual(findRegions(map, w, h, 0, { minArea: 2 }).map((r) => r.area), [9]);
  assert.equal(findRegions(map, w, h, 0, { maxRegions: 1 }).length, 1);
});

test("an empty map, a map all above threshold, and a frame-sized blob (no stack overflow)", () => {
  assert.deepEqual(findRegions(new Float32Array(12), 4, 3, 0.5), []);
  const w = 2000, h = 1500;
  const all = new Float32Array(w * h).fill(1);
  all[w * 700 + 1000] = 3;
  assert.deepEqual(findRegions(all, w, h, 0.5), [{ x: 0, y: 0, width: w, height: h, area: w * h, peakScore: 3 }]);
  assert.throws(() => findRegions(new Float32Array(5), 2, 2, 0), RangeError);
});
