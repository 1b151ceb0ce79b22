import { test } from "node:test";
import assert from "node:assert/strict";
import { drawShift, MIN_VISIBLE, synthesizeAnomaly } from "../../../src/image/pseudo/anomaly.js";
import { maskArea, maskBox, type BinaryMask } from "../../../src/image/pseudo/mask.js";
import { pasteFragment } from "../../../src/image/pseudo/paste.js";
import type { RgbImage } from "../../../src/image/decode.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { flatImage, noiseImage, smoothImage } from "./helpers.js";

test("the source place is at least the minimum shift away and keeps the (turned) box inside the image", () => {
  const box = { x0: 40, y0: 30, x1: 59, y1: 39 }; // 20 wide, 10 high, centre (49.5, 34.5)
  for (let seed = 0; seed < 50; seed++) {
    for (const swap of [false, true]) {
      const { dx, dy } = drawShift(seededRng(seed), 120, 90, box, swap, 25);
      assert.ok(Math.hypot(dx, dy) >= 25, `seed ${seed}: shift ${dx},${dy}`);
      const [rx, ry] = swap ? [4.5, 9.5] : [9.5, 4.5];
      const sx = 49.5 + dx;
      const sy = 34.5 + dy;
      // Rounding the shift may move the box by half a pixel.
      assert.ok(sx - rx >= -0.5 && sx + rx <= 119.5 && sy - ry >= -0.5 && sy + ry <= 89.5, `seed ${seed}: source box out of the image`);
    }
  }
});

test("a synthesized anomaly changes only pixels under its mask, visibly, and records how", () => {
  for (let seed = 0; seed < 10; seed++) {
    const target = noiseImage(64, 48, 5);
    const source = noiseImage(64, 48, 6);
    const a = synthesizeAnomaly(seededRng(seed), target, source);
    let changedOutside = 0;
    for (let i = 0; i < 64 * 48; i++) {
      if (a.mask.data[i] === 1) continue;
      for (let c = 0; c < 3; c++) if (a.image.rgb[3 * i + c] !== target.rgb[3 * i + c]) changedOutside++;
    }
    assert.equal(changedOutside, 0, `seed ${seed}`);
    assert.equal(a.info.areaFraction, maskArea(a.mask) / (64 * 48));
    assert.ok(a.info.visibleFraction >= MIN_VISIBLE, `seed ${seed}: visible ${a.info.visibleFraction}`);
    assert.ok(Math.hypot(a.info.paste.dx, a.info.paste.dy) >= 0.1 * 48, `seed ${seed}: shift too small`);
  }
});

test("when nothing can be seen (identical flat images), the most visible draw is kept and says so", () => {
  const flat = flatImage(40, 40, [90, 90, 90]);
  const a = synthesizeAnomaly(seededRng(3), flat, flat, { transformChance: 0 });
  assert.equal(a.info.visibleFraction, 0);
  assert.ok(maskArea(a.mask) > 0);
  assert.deepEqual(a.image.rgb, flat.rgb);
});

test("the same stream gives the same anomaly", () => {
  const target = noiseImage(50, 50, 1);
  const source = noiseImage(50, 50, 2);
  const a = synthesizeAnomaly(seededRng(9), target, source);
  const b = synthesizeAnomaly(seededRng(9), target, source);
  assert.deepEqual(a.image.rgb, b.image.rgb);
  assert.deepEqual(a.mask.data, b.mask.data);
  assert.deepEqual(a.info, b.info);
});

/** Mean step between each mask pixel on the border and its outside neighbours. */
function seamStep(image: RgbImage, target: RgbImage, mask: BinaryMask): number {
  const { width, height } = mask;
  let sum = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (!mask.data[p]) continue;
      for (const [qx, qy] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
        if (qx < 0 || qy < 0 || qx >= width || qy >= height || mask.data[qy * width + qx]) continue;
        const q = qy * width + qx;
        for (let c = 0; c < 3; c++) sum += Math.abs(image.rgb[3 * p + c]! - target.rgb[3 * q + c]!);
        n += 3;
      }
    }
  }
  return sum / n;
}

test("seamless anomalies: same mask and placement as the hard paste, no seam, and nothing changed outside", () => {
  const target = smoothImage(64, 48, 0.2);
  const source = smoothImage(64, 48, 2.9, 90);
  let hardSeam = 0;
  let softSeam = 0;
  for (let seed = 0; seed < 10; seed++) {
    const soft = synthesizeAnomaly(seededRng(seed), target, source, { seamless: 1 });
    assert.equal(soft.info.blend, "seamless");
    for (let i = 0; i < 64 * 48; i++) if (!soft.mask.data[i]) for (let c = 0; c < 3; c++) assert.equal(soft.image.rgb[3 * i + c], target.rgb[3 * i + c]);
    const box = maskBox(soft.mask)!;
    const hard = pasteFragment(target, source, soft.mask, box, soft.info.paste);
    hardSeam += seamStep(hard, target, soft.mask);
    softSeam += seamStep(soft.image, target, soft.mask);
  }
  assert.ok(softSeam < 0.5 * hardSeam, `seam step: seamless ${softSeam / 10}, hard ${hardSeam / 10}`);
});

test("a seamless share of 0 (or none given) draws exactly the anomalies it drew before the option existed", () => {
  const target = noiseImage(50, 40, 1);
  const source = noiseImage(50, 40, 2);
  for (let seed = 0; seed < 5; seed++) {
    const plain = synthesizeAnomaly(seededRng(seed), target, source);
    const zero = synthesizeAnomaly(seededRng(seed), target, source, { seamless: 0 });
    assert.deepEqual(zero, plain);
    assert.equal(plain.info.blend, undefined);
  }
  // Half the anomalies of a stream of draws are blended.
  const blended = Array.from({ length: 40 }, (_, seed) => synthesizeAnomaly(seededRng(seed), target, source, { seamless: 0.5 }).info.blend === "seamless").filter(Boolean).length;
  assert.ok(blended > 10 && blended < 30, `${blended} of 40 blended`);
  assert.throws(() => synthesizeAnomaly(seededRng(0), target, source, { seamless: 1.5 }), /seamless share/);
});
