import { test } from "node:test";
import assert from "node:assert/strict";
import { synthesizeLogicalAnomaly } from "../../../src/image/pseudo/anomaly.js";
import { alignedSource, lumaMoments, MIN_VISIBLE_LOGICAL, PART_SIDE_RANGE, squareSum, squareVariance, synthesizeLogical } from "../../../src/image/pseudo/logical.js";
import { maskArea, maskBox } from "../../../src/image/pseudo/mask.js";
import type { RgbImage } from "../../../src/image/decode.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { flatImage, noiseImage, partsPlate as plate } from "./helpers.js";

/** Slow reference: the luma's variance over the square, from its mean, pixel by pixel. */
function slowVariance(image: RgbImage, x0: number, y0: number, side: number): number {
  const { width, rgb } = image;
  const lumas: number[] = [];
  for (let y = y0; y < y0 + side; y++) {
    for (let x = x0; x < x0 + side; x++) {
      const i = 3 * (y * width + x);
      lumas.push(0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!);
    }
  }
  const mean = lumas.reduce((a, b) => a + b, 0) / lumas.length;
  return lumas.reduce((a, l) => a + (l - mean) ** 2, 0) / lumas.length;
}

test("the summed-area tables give each square's luma variance as the pixel-by-pixel computation does", () => {
  const image = noiseImage(37, 23, 4);
  const m = lumaMoments(image);
  for (const [x, y, side] of [[0, 0, 23], [5, 3, 7], [30, 16, 7], [14, 0, 1], [0, 11, 12]] as const) {
    const fast = squareVariance(m, x, y, side);
    const slow = slowVariance(image, x, y, side);
    assert.ok(Math.abs(fast - slow) <= 1e-6 * Math.max(1, slow), `square ${x},${y} side ${side}: ${fast} against ${slow}`);
  }
  // Hand-computed: a gray square half at 20 and half at 120 varies by 50² = 2500; either half alone by 0.
  const step = flatImage(10, 6, [20, 20, 20]);
  for (let y = 0; y < 6; y++) for (let x = 3; x < 10; x++) step.rgb.fill(120, 3 * (y * 10 + x), 3 * (y * 10 + x) + 3);
  const t = lumaMoments(step);
  assert.ok(Math.abs(squareVariance(t, 0, 0, 6) - 2500) < 1e-6);
  assert.ok(Math.abs(squareVariance(t, 4, 0, 6)) < 1e-6);
  assert.equal(squareSum(t.sum, 10, 0, 0, 2), 4 * 20);
});

/** The variance of the red channel (the luma, on these gray plates) under a mask. */
function varianceUnder(image: RgbImage, mask: { data: Uint8Array }): number {
  const mean = meanUnder(image, mask);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === 0) continue;
    sum += (image.rgb[3 * i]! - mean) ** 2;
    n++;
  }
  return sum / n;
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
    const a = synthesizeLogical(seededRng(seed), target)!;
    assert.ok(a, `seed ${seed}: no part found`);
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
      // Centred on the part (the middle of the positions that hold it whole), so the disc holds all of it.
      const [px, py] = parts.find(([px, py]) => to.x + side > px && to.x < px + size && to.y + side > py && to.y < py + size)!;
      let outside = 0;
      for (let y = py; y < py + size; y++) for (let x = px; x < px + size; x++) outside += 1 - a.mask.data[y * 160 + x]!;
      // A part 20 px from the image's edge cannot be centred exactly (the ring must fit inside): a corner pixel may stay out.
      assert.ok(outside <= 2, `seed ${seed}: the disc at ${to.x},${to.y} (side ${side}) leaves ${outside} pixels of the part at ${px},${py}`);
    } else {
      assert.ok(onPart(from.x, from.y) && !onPart(to.x, to.y), `seed ${seed}: added from ${from.x},${from.y} onto ${to.x},${to.y}`);
      assert.ok(Math.abs(meanUnder(target, a.mask) - 92) < 3, `seed ${seed}: the place was not plain`);
    }
    // The disc became much plainer (a part went) or much busier (one came): the whole part moved, not a piece of it.
    const before = varianceUnder(target, a.mask);
    const after = varianceUnder(a.image, a.mask);
    // Centred, the disc holds the whole part: what is left varies like plate (about 2).
    if (kind === "removed") assert.ok(after < 0.01 * before, `seed ${seed}: variance ${before} → ${after}`);
    else assert.ok(after > 100 * before, `seed ${seed}: variance ${before} → ${after}`);
    assert.ok(a.visibleFraction >= MIN_VISIBLE_LOGICAL, `seed ${seed}: visible ${a.visibleFraction}`);
  }
  assert.deepEqual([...kinds].sort(), ["added", "removed"]);
  // The same seed draws the same anomaly.
  assert.deepEqual(synthesizeLogical(seededRng(3), target), synthesizeLogical(seededRng(3), target));
});

test("a logical anomaly as an Anomaly: a seamless shift within the target, its disc the mask; none from a texture without parts", () => {
  const target = plate(120, 90, [[10, 10], [80, 50]], 20);
  for (let seed = 0; seed < 5; seed++) {
    const a = synthesizeLogicalAnomaly(seededRng(seed), target)!;
    assert.ok(a.info.logical, `seed ${seed}: not logical`);
    assert.equal(a.info.blend, "seamless");
    assert.equal(a.info.paste.dx, a.info.logical.from.x - a.info.logical.to.x);
    assert.equal(a.info.paste.dy, a.info.logical.from.y - a.info.logical.to.y);
    assert.equal(a.info.areaFraction, maskArea(a.mask) / (120 * 90));
    assert.deepEqual(a.mask, synthesizeLogical(seededRng(seed), target)!.mask);
  }
  const texture = noiseImage(120, 90, 5);
  for (let seed = 0; seed < 5; seed++) {
    assert.equal(synthesizeLogical(seededRng(seed), texture), undefined);
    assert.equal(synthesizeLogicalAnomaly(seededRng(seed), texture), undefined);
  }
  assert.equal(synthesizeLogical(seededRng(0), flatImage(12, 12, [1, 2, 3])), undefined, "a frame too small for a part and its ring");
});

test("the source is shifted into phase with the texture around the destination, by the least shift that matches", () => {
  // Vertical stripes of period 6: only a shift of x by a multiple of 6 continues them across the square's edge.
  const stripes = flatImage(120, 90, [0, 0, 0]);
  for (let y = 0; y < 90; y++) for (let x = 0; x < 120; x++) stripes.rgb.fill(x % 6 < 3 ? 150 : 100, 3 * (y * 120 + x), 3 * (y * 120 + x) + 3);
  // 13 is 3 out of phase with 40; 10 and 16 are in phase, both 3 away: the first found (the smaller) wins; y needs no shift.
  assert.deepEqual(alignedSource(stripes, { x: 13, y: 43 }, { x: 70, y: 40 }, 20), { x: 10, y: 43 });
  // Already in phase: unchanged.
  assert.deepEqual(alignedSource(stripes, { x: 16, y: 30 }, { x: 70, y: 40 }, 20), { x: 16, y: 30 });
  // Never onto the destination itself, though it matches perfectly.
  const near = alignedSource(stripes, { x: 52, y: 40 }, { x: 70, y: 40 }, 20);
  assert.ok(Math.abs(near.x - 70) >= 20, `shifted onto the destination: ${near.x}`);
  assert.equal(Math.abs(near.x - 70) % 6, 0);
});
