import { test } from "node:test";
import assert from "node:assert/strict";
import { synthesizeAnomaly } from "../../../src/image/pseudo/anomaly.js";
import { MIN_VISIBLE_LOGICAL, PART_SIDE_RANGE, squareSum, structureTable, synthesizeLogical } from "../../../src/image/pseudo/logical.js";
import { maskArea, maskBox } from "../../../src/image/pseudo/mask.js";
import type { RgbImage } from "../../../src/image/decode.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { flatImage, noiseImage } from "./helpers.js";

/** Slow reference: the gradient magnitude summed pixel by pixel over the square, each derivative taken anew. */
function slowStructure(image: RgbImage, x0: number, y0: number, side: number): number {
  const { width, height, rgb } = image;
  const luma = (x: number, y: number) => 0.299 * rgb[3 * (y * width + x)]! + 0.587 * rgb[3 * (y * width + x) + 1]! + 0.114 * rgb[3 * (y * width + x) + 2]!;
  let sum = 0;
  for (let y = y0; y < y0 + side; y++) {
    for (let x = x0; x < x0 + side; x++) {
      const l = Math.max(0, x - 1);
      const r = Math.min(width - 1, x + 1);
      const u = Math.max(0, y - 1);
      const d = Math.min(height - 1, y + 1);
      sum += Math.abs((luma(r, y) - luma(l, y)) / (r - l)) + Math.abs((luma(x, d) - luma(x, u)) / (d - u));
    }
  }
  return sum;
}

test("the structure table's square sums equal the gradient magnitude summed pixel by pixel", () => {
  const image = noiseImage(37, 23, 4);
  const table = structureTable(image);
  for (const [x, y, side] of [[0, 0, 23], [5, 3, 7], [30, 16, 7], [14, 0, 1], [0, 11, 12]] as const) {
    const fast = squareSum(table, 37, x, y, side);
    const slow = slowStructure(image, x, y, side);
    assert.ok(Math.abs(fast - slow) <= 1e-6 * Math.max(1, slow), `square ${x},${y} side ${side}: ${fast} against ${slow}`);
  }
  // Hand-computed: a vertical step of 100 levels between columns 4 and 5 of a gray image gives |∂x| = 50 in columns 4 and 5, nothing else.
  const step = flatImage(10, 6, [20, 20, 20]);
  for (let y = 0; y < 6; y++) for (let x = 5; x < 10; x++) step.rgb.fill(120, 3 * (y * 10 + x), 3 * (y * 10 + x) + 3);
  const t = structureTable(step);
  assert.ok(Math.abs(squareSum(t, 10, 0, 0, 6) - 6 * 2 * 50) < 1e-6);
  assert.ok(Math.abs(squareSum(t, 10, 0, 0, 4)) < 1e-6);
});

/** A plain plate (flat, faintly noisy) carrying square "parts": bright with a dark hole, so they are the busiest places by far. */
function plate(width: number, height: number, parts: readonly (readonly [number, number])[], size: number): RgbImage {
  const image = noiseImage(width, height, 9, true);
  for (let i = 0; i < image.rgb.length; i++) image.rgb[i] = 90 + (image.rgb[i]! % 5);
  for (const [px, py] of parts) {
    for (let y = py; y < py + size; y++) {
      for (let x = px; x < px + size; x++) {
        const hole = Math.abs(x - px - size / 2) < size / 5 && Math.abs(y - py - size / 2) < size / 5;
        image.rgb.fill(hole ? 10 : 230, 3 * (y * width + x), 3 * (y * width + x) + 3);
      }
    }
  }
  return image;
}

function meanUnder(image: RgbImage, mask: { data: Uint8Array }): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === 0) continue;
    sum += image.rgb[3 * i]!;
    n++;
  }
  return sum / n;
}

test("a removed part leaves plate where a part was; an added part shows on plate where none was; nothing changes outside the disc", () => {
  const size = 24;
  const parts = [[20, 20], [100, 20], [20, 100], [100, 100]] as const;
  const target = plate(160, 160, parts, size);
  const onPart = (x: number, y: number) => parts.some(([px, py]) => x + size > px && x < px + size && y + size > py && y < py + size);
  const kinds = new Set<string>();
  for (let seed = 0; seed < 16; seed++) {
    const a = synthesizeLogical(seededRng(seed), target);
    const { kind, side, from, to } = a.info;
    kinds.add(kind);
    assert.ok(side >= Math.floor(PART_SIDE_RANGE[0] * 160) && side <= Math.ceil(PART_SIDE_RANGE[1] * 160), `seed ${seed}: side ${side}`);
    // The mask is the disc inscribed in the square at `to`.
    const box = maskBox(a.mask)!;
    assert.deepEqual([box.x0, box.y0, box.x1, box.y1], [to.x, to.y, to.x + side - 1, to.y + side - 1]);
    assert.ok(Math.abs(maskArea(a.mask) - (Math.PI * side * side) / 4) < 2 * side, `seed ${seed}: disc area ${maskArea(a.mask)}`);
    for (let i = 0; i < target.rgb.length / 3; i++) {
      if (a.mask.data[i] === 1) continue;
      assert.equal(a.image.rgb[3 * i], target.rgb[3 * i], `seed ${seed}: pixel ${i} outside the disc changed`);
    }
    if (kind === "removed") {
      assert.ok(onPart(to.x, to.y) && !onPart(from.x, from.y), `seed ${seed}: removed from ${to.x},${to.y} with plate from ${from.x},${from.y}`);
    } else {
      assert.ok(onPart(from.x, from.y) && !onPart(to.x, to.y), `seed ${seed}: added from ${from.x},${from.y} onto ${to.x},${to.y}`);
      assert.ok(Math.abs(meanUnder(target, a.mask) - 92) < 3, `seed ${seed}: the place was not plain`);
    }
    // The square at `to` became much plainer (a part went) or much busier (one came): the whole part moved, not a piece of it.
    const before = squareSum(structureTable(target), 160, to.x, to.y, side);
    const after = squareSum(structureTable(a.image), 160, to.x, to.y, side);
    if (kind === "removed") assert.ok(after < 0.3 * before, `seed ${seed}: structure ${before} → ${after}`);
    else assert.ok(after > 3 * before, `seed ${seed}: structure ${before} → ${after}`);
    assert.ok(a.visibleFraction >= MIN_VISIBLE_LOGICAL, `seed ${seed}: visible ${a.visibleFraction}`);
  }
  assert.deepEqual([...kinds].sort(), ["added", "removed"]);
  // The same seed draws the same anomaly.
  assert.deepEqual(synthesizeLogical(seededRng(3), target), synthesizeLogical(seededRng(3), target));
});

test("a logical share draws logical anomalies from the target alone; a share of 0 draws what was drawn before; a bad share is refused", () => {
  const target = plate(120, 90, [[10, 10], [80, 50]], 20);
  const source = noiseImage(120, 90, 2);
  for (let seed = 0; seed < 5; seed++) {
    assert.deepEqual(synthesizeAnomaly(seededRng(seed), target, source, { logical: 0 }), synthesizeAnomaly(seededRng(seed), target, source));
    const all = synthesizeAnomaly(seededRng(seed), target, source, { logical: 1 });
    assert.ok(all.info.logical, `seed ${seed}: not logical`);
    assert.equal(all.info.blend, "seamless");
    assert.equal(all.info.paste.dx, all.info.logical.from.x - all.info.logical.to.x);
    assert.equal(all.info.areaFraction, maskArea(all.mask) / (120 * 90));
  }
  const logical = Array.from({ length: 40 }, (_, seed) => synthesizeAnomaly(seededRng(seed), target, source, { logical: 0.5 }).info.logical !== undefined).filter(Boolean).length;
  assert.ok(logical > 10 && logical < 30, `${logical} of 40 logical`);
  assert.throws(() => synthesizeAnomaly(seededRng(0), target, source, { logical: 2 }), /logical share/);
  assert.throws(() => synthesizeLogical(seededRng(0), flatImage(12, 12, [1, 2, 3])), /too small/);
});
