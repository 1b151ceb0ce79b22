import { test } from "node:test";
import assert from "node:assert/strict";
import { frameLight } from "../../src/image/frame-light.js";

/** Two 3×3 planar RGB images back to back, each value set by (image, channel, row, col). */
function batchOf(value: (image: number, ch: number, row: number, col: number) => number): Float32Array {
  const out = new Float32Array(2 * 3 * 9);
  for (let i = 0; i < 2; i++) for (let ch = 0; ch < 3; ch++) for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[i * 27 + ch * 9 + r * 3 + c] = value(i, ch, r, c);
  return out;
}

test("frameLight: each channel's mean over the placement, the whole square without one; by hand", () => {
  const batch = batchOf((i, ch, r, c) => 100 * i + 10 * ch + 3 * r + c);
  // Whole square of image 0: channel ch's values are 10ch + 3r + c, r, c in 0..2 → mean 10ch + 4.
  assert.deepEqual(frameLight(batch, 0, 3), [4, 14, 24]);
  // Image 1, the right two columns of the bottom two rows: 100 + 10ch + mean(3r + c) over r, c in {1, 2} = 4.5 + 1.5.
  assert.deepEqual(frameLight(batch, 1, 3, { x: 1, y: 1, w: 2, h: 2 }), [106, 116, 126]);
  assert.throws(() => frameLight(batch, 2, 3), /past a batch/);
  assert.throws(() => frameLight(batch, 0, 3, { x: 2, y: 0, w: 2, h: 3 }), /outside the 3×3 input/);
});
