import { test } from "node:test";
import assert from "node:assert/strict";
import type { RgbImage } from "../../../src/image/decode.js";
import { appearanceGap, partAppearance, standsOut } from "../../../src/image/pseudo/part-appearance.js";

/** A w×h plate of colour `ground` with round parts (discs of diameter `part`, by default the whole square) centred in squares of `side` at the given corners. */
function plate(w: number, h: number, ground: readonly number[], parts: readonly { x: number; y: number; colour: readonly number[] }[], side: number, part = side): RgbImage {
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set(ground, 3 * i);
  const c = side / 2;
  for (const p of parts) {
    for (let v = 0; v < side; v++) {
      for (let u = 0; u < side; u++) if ((u + 0.5 - c) ** 2 + (v + 0.5 - c) ** 2 <= (part / 2) ** 2) rgb.set(p.colour, 3 * ((p.y + v) * w + p.x + u));
    }
  }
  return { width: w, height: h, rgb, gray: false };
}

test("a part's appearance is its disc's mean less its ring's mean, whatever the plate's own colour", () => {
  const a = plate(20, 20, [100, 110, 150], [{ x: 4, y: 4, colour: [200, 160, 50] }], 10);
  assert.deepEqual(partAppearance(a, 4, 4, 10), [100, 50, -100]);
  // The same part on a brighter, warmer plate: the same appearance.
  const b = plate(20, 20, [130, 120, 140], [{ x: 4, y: 4, colour: [230, 170, 40] }], 10);
  assert.deepEqual(partAppearance(b, 4, 4, 10), [100, 50, -100]);
  // Half the disc at 60, half at 120 (the disc is symmetric about its middle row), the ring (3 px) at 0.
  const c = plate(16, 16, [0, 0, 0], [{ x: 3, y: 3, colour: [60, 60, 60] }], 10);
  for (let y = 3; y < 8; y++) for (let x = 3; x < 13; x++) if (c.rgb[3 * (y * 16 + x)] === 60) c.rgb.set([120, 120, 120], 3 * (y * 16 + x));
  assert.deepEqual(partAppearance(c, 3, 3, 10), [90, 90, 90]);
  // At the image's edge the ring is what lies inside the image.
  const d = plate(12, 12, [10, 10, 10], [{ x: 0, y: 0, colour: [50, 50, 50] }], 10);
  assert.deepEqual(partAppearance(d, 0, 0, 10), [40, 40, 40]);
  assert.throws(() => partAppearance(c, 8, 8, 10), /not inside/);
  assert.throws(() => partAppearance(plate(10, 10, [0, 0, 0], [], 10), 0, 0, 10), /no ring/);
});

test("the gap of two appearances is their largest channel difference", () => {
  assert.equal(appearanceGap([10, -5, 3], [4, 7, 3]), 12);
  assert.equal(appearanceGap([1, 2, 3], [1, 2, 3]), 0);
});

const STEEL = [200, 200, 205] as const;
const BRASS = [210, 165, 60] as const;
const corners = [[6, 6], [40, 6], [6, 40], [40, 40]] as const;
/** Four parts of 8 px in squares of 14, on a blue plate. */
const steelPlate = (colours: readonly (readonly number[])[] = [STEEL, STEEL, STEEL, STEEL]) => plate(60, 60, [90, 100, 140], corners.map(([x, y], i) => ({ x, y, colour: colours[i]! })), 14, 8);

test("a part stands out only when it differs from every part of the replaced one's kind by the visible level and twice their spread", () => {
  const target = steelPlate();
  const place = { x: 6, y: 6, side: 14 };
  const parts = corners.map(([x, y]) => ({ x, y, side: 14 }));
  const steel = partAppearance(target, 6, 6, 14);
  const brass = partAppearance(plate(60, 60, [70, 80, 120], [{ x: 6, y: 6, colour: BRASS }], 14, 8), 6, 6, 14);
  assert.equal(standsOut(target, parts, place, brass), true);
  assert.equal(standsOut(target, parts, place, steel), false);
  // The visible level (MASK_THRESHOLD, 12): a part 11 levels off in one channel does not stand out, 12 does.
  const off = (k: number, by: number) => steel.map((v, j) => (j === k ? v + by : v)) as unknown as typeof steel;
  assert.equal(standsOut(target, parts, place, off(2, 11)), false);
  assert.equal(standsOut(target, parts, place, off(2, 12)), true);
  // The replaced part found again two pixels off is not one of the others, and measures as its part does.
  assert.equal(standsOut(target, [...parts, { x: 8, y: 7, side: 14 }], place, off(2, 12)), true);
  // The 8-px part fills 52 of the 14-px disc's 156 pixels, a third: steel reads (110, 100, 65) / 3.
  assert.deepEqual(steel.map((v) => Math.round(3 * v)), [110, 100, 65]);
  // A frame whose fourth part is 30 levels bluer: its spread is 10, so a part must differ by 20 from the others.
  const mixed = steelPlate([STEEL, STEEL, STEEL, [200, 200, 235]]);
  assert.ok(Math.abs(appearanceGap(partAppearance(mixed, 40, 40, 14), steel) - 10) < 1e-9);
  assert.equal(standsOut(mixed, parts, place, off(0, 19.9)), false);
  assert.equal(standsOut(mixed, parts, place, off(0, 20)), true);
  // A part alone of its kind must only differ from the one it replaces.
  assert.equal(standsOut(target, [parts[0]!], place, brass), true);
  assert.equal(standsOut(target, [parts[0]!], place, off(2, 11)), false);
});

test("parts of another kind in the frame say nothing of whether the replaced part fits", () => {
  // Three steel parts and a brass one (a cap beside labels): the brass part is not of the replaced steel part's kind.
  const target = steelPlate([STEEL, STEEL, STEEL, BRASS]);
  const parts = corners.map(([x, y]) => ({ x, y, side: 14 }));
  const steel = partAppearance(target, 6, 6, 14);
  const brass = partAppearance(target, 40, 40, 14);
  // Its spread does not count: a steel part 12 levels off stands out among the steel ones.
  assert.equal(standsOut(target, parts, { x: 6, y: 6, side: 14 }, [steel[0], steel[1], steel[2] + 12]), true);
  // A second brass part among the steel ones stands out; a steel one in place of the brass part does, too.
  assert.equal(standsOut(target, parts, { x: 6, y: 6, side: 14 }, brass), true);
  assert.equal(standsOut(target, parts, { x: 40, y: 40, side: 14 }, steel), true);
  // A like part does not.
  assert.equal(standsOut(target, parts, { x: 40, y: 40, side: 14 }, brass), false);
});
