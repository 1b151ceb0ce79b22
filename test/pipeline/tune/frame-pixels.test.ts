/**
 * framePixels: pseudo-validation's pixel figures see a sample's frame, not
 * its letterbox border (as eval's do): the map and the mask cropped to the
 * frame's placement, by hand.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { framePixels } from "../../../src/pipeline/tune/pseudo-features.js";
import type { FeatureMap } from "../../../src/model/types.js";

const x = (place?: FeatureMap["place"]): FeatureMap => ({ data: new Float32Array(4), c: 1, h: 2, w: 2, ...(place ? { place } : {}) });

test("a letterboxed sample's map and mask are cropped to its placement; a sample without one keeps the whole square", () => {
  // 4×4 map 0..15; the frame is columns 1–2 of every row.
  const map = Float32Array.from({ length: 16 }, (_, i) => i);
  const mask = new Uint8Array(16);
  mask[5] = 1; // row 1, column 1: inside
  mask[3] = 1; // row 0, column 3: on the border, left out
  const placed = framePixels({ x: x({ x: 1, y: 0, w: 2, h: 4 }), mask }, map, 4);
  assert.deepEqual([...placed.map], [1, 2, 5, 6, 9, 10, 13, 14]);
  assert.deepEqual([...placed.mask], [0, 0, 1, 0, 0, 0, 0, 0]);
  assert.equal(placed.width, 2);

  // A normal sample (no mask): every frame pixel negative.
  const normal = framePixels({ x: x({ x: 0, y: 1, w: 4, h: 2 }) }, map, 4);
  assert.deepEqual([...normal.map], [4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual([...normal.mask], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(normal.width, 4);

  const whole = framePixels({ x: x(), mask }, map, 4);
  assert.equal(whole.map, map);
  assert.equal(whole.mask, mask);
  assert.equal(whole.width, 4);
  assert.throws(() => framePixels({ x: x() }, new Float32Array(15), 4), /not 4×4/);
});
