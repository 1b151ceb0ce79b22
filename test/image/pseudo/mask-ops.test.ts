import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyMask, maskArea, maskBox, rasterize, unionMasks } from "../../../src/image/pseudo/mask.js";
import type { Shape } from "../../../src/image/pseudo/shapes.js";

/** A 4×2 box centred on its origin. */
const box4x2: Shape = { radius: Math.hypot(2, 1), inside: (u, v) => Math.abs(u) < 2 && Math.abs(v) < 1 };

test("rasterize marks the pixels whose centres fall inside the placed shape", () => {
  const m = rasterize(box4x2, 8, 6, { cx: 4, cy: 3, angle: 0 });
  // Centres x+0.5 in (2, 6) → x = 2..5; y+0.5 in (2, 4) → y = 2..3.
  const expected: number[] = [];
  for (let y = 2; y <= 3; y++) for (let x = 2; x <= 5; x++) expected.push(y * 8 + x);
  assert.deepEqual([...m.data.keys()].filter((i) => m.data[i] === 1), expected);
  assert.deepEqual(maskBox(m), { x0: 2, y0: 2, x1: 5, y1: 3 });
  assert.equal(maskArea(m), 8);
});

test("a quarter turn lays the box on its side", () => {
  const m = rasterize(box4x2, 8, 8, { cx: 4, cy: 4, angle: Math.PI / 2 });
  assert.deepEqual(maskBox(m), { x0: 3, y0: 2, x1: 4, y1: 5 });
  assert.equal(maskArea(m), 8);
});

test("a shape overhanging the edge is clipped, not wrapped", () => {
  const m = rasterize(box4x2, 8, 6, { cx: 0, cy: 0, angle: 0 });
  // Only x = 0..1, y = 0 have centres inside (|x+0.5| < 2, |y+0.5| < 1).
  assert.deepEqual(maskBox(m), { x0: 0, y0: 0, x1: 1, y1: 0 });
  assert.equal(maskArea(m), 2);
});

test("union covers both masks and nothing else; box of an empty mask is undefined", () => {
  const a = emptyMask(3, 2);
  const b = emptyMask(3, 2);
  a.data.set([1, 1, 0, 0, 0, 0]);
  b.data.set([0, 1, 0, 0, 0, 1]);
  assert.deepEqual([...unionMasks([a, b]).data], [1, 1, 0, 0, 0, 1]);
  assert.equal(maskBox(emptyMask(3, 2)), undefined);
  assert.throws(() => unionMasks([a, emptyMask(2, 3)]), /different sizes/);
});
