import { test } from "node:test";
import assert from "node:assert/strict";
import { drawFaint, featheredWeight } from "../../../src/image/pseudo/faint.js";
import { synthesizeFaintAnomaly, MIN_VISIBLE } from "../../../src/image/pseudo/anomaly.js";
import { emptyMask, maskArea, maskBox } from "../../../src/image/pseudo/mask.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { MASK_THRESHOLD } from "../../../src/image/synth/sample.js";
import { flatImage, noiseImage } from "./helpers.js";

/** The box mean written out: every window summed pixel by pixel, outside the image counting as 0. */
function slowFeather(mask: { width: number; height: number; data: Uint8Array }, r: number): Float32Array {
  const out = new Float32Array(mask.width * mask.height);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      let sum = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const u = x + dx;
          const v = y + dy;
          if (u >= 0 && v >= 0 && u < mask.width && v < mask.height) sum += mask.data[v * mask.width + u]!;
        }
      }
      out[y * mask.width + x] = sum / (2 * r + 1) ** 2;
    }
  }
  return out;
}

test("featheredWeight: hand values for one pixel and a 2x2 square, and the slow box mean on a shape cut by the border", () => {
  const one = emptyMask(5, 5);
  one.data[12] = 1;
  const w1 = featheredWeight(one, maskBox(one)!, 1);
  // Each of the 9 windows that hold the centre sees 1 of 9 pixels; the rest see none.
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.ok(Math.abs(w1[y * 5 + x]! - (Math.abs(x - 2) <= 1 && Math.abs(y - 2) <= 1 ? 1 / 9 : 0)) < 1e-7, `(${x},${y})`);
  const sq = emptyMask(6, 6);
  for (const i of [14, 15, 20, 21]) sq.data[i] = 1; // (2,2) (3,2) (2,3) (3,3)
  const w2 = featheredWeight(sq, maskBox(sq)!, 1);
  assert.ok(Math.abs(w2[14]! - 4 / 9) < 1e-7); // a corner of the square sees all four
  assert.ok(Math.abs(w2[8]! - 2 / 9) < 1e-7); // (2,1) above it sees two
  assert.ok(Math.abs(w2[7]! - 1 / 9) < 1e-7); // (1,1) diagonal sees one
  assert.equal(w2[0], 0);
  const edge = emptyMask(9, 7);
  for (let y = 0; y < 4; y++) for (let x = 5; x < 9; x++) edge.data[y * 9 + x] = 1;
  edge.data[6 * 9 + 1] = 1;
  const fast = featheredWeight(edge, maskBox(edge)!, 2);
  const slow = slowFeather(edge, 2);
  fast.forEach((v, i) => assert.ok(Math.abs(v - slow[i]!) < 1e-6, `pixel ${i}: ${v} against ${slow[i]}`));
  assert.deepEqual(Array.from(featheredWeight(edge, maskBox(edge)!, 0)), Array.from(edge.data));
});

test("drawFaint: a line or spot whose change is bounded by its contrast, labelled where it changed, gray kept gray, deterministic", () => {
  const kinds = new Set<string>();
  for (let i = 0; i < 24; i++) {
    const gray = i % 2 === 0;
    const target = noiseImage(96, 80, i, gray);
    const a = drawFaint(seededRng(1000 + i), target)!;
    const b = drawFaint(seededRng(1000 + i), target)!;
    assert.deepEqual(a, b, "the same stream draws the same anomaly");
    kinds.add(a.info.kind);
    assert.ok(a.info.contrast >= 0.06 - 1e-9 && a.info.contrast <= 0.2 + 1e-9, `contrast ${a.info.contrast}`);
    assert.equal(Math.max(...a.info.direction.map(Math.abs)), 1);
    if (gray) assert.ok(a.info.direction.every((d) => d === a.info.direction[0]), "a gray frame's change is a tone");
    // No channel moves more than contrast x 1.3 (a spot's noise) of full scale, plus rounding.
    const bound = a.info.contrast * 1.3 * 255 + 1;
    let changedOutside = 0;
    for (let p = 0; p < 96 * 80; p++) {
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(a.image.rgb[3 * p + c]! - target.rgb[3 * p + c]!) <= bound);
      if (gray) assert.ok(a.image.rgb[3 * p] === a.image.rgb[3 * p + 1] && a.image.rgb[3 * p] === a.image.rgb[3 * p + 2]);
      const moved = [0, 1, 2].some((c) => a.image.rgb[3 * p + c] !== target.rgb[3 * p + c]);
      if (moved && !a.mask.data[p]) changedOutside++;
    }
    assert.ok(maskArea(a.mask) > 0);
    // Only a spot's feathered rim (weight under one half) changes outside its label; a line is hard-edged.
    if (a.info.kind === "line") assert.equal(changedOutside, 0);
    else assert.ok(changedOutside <= 4 * maskArea(a.mask), `${changedOutside} rim pixels for ${maskArea(a.mask)} labelled`);
    assert.equal(a.image.gray, gray);
  }
  assert.deepEqual([...kinds].sort(), ["line", "spot"]);
});

test("synthesizeFaintAnomaly: visible where it can be, identity paste, and on a white frame a lighter draw is retried into a darker one", () => {
  const rng = seededRng(7);
  for (let i = 0; i < 10; i++) {
    const a = synthesizeFaintAnomaly(rng, noiseImage(64, 64, 50 + i, i % 2 === 0));
    assert.ok(a.info.visibleFraction >= MIN_VISIBLE, `visible ${a.info.visibleFraction}`);
    assert.deepEqual(a.info.paste, { dx: 0, dy: 0, transform: 0, gain: 1, bias: 0 });
    assert.ok(a.info.faint && a.info.parts.length === 1);
    assert.ok(Math.abs(a.info.areaFraction - maskArea(a.mask) / (64 * 64)) < 1e-12);
  }
  const white = flatImage(64, 64, [255, 255, 255]);
  for (let i = 0; i < 6; i++) {
    const a = synthesizeFaintAnomaly(seededRng(300 + i), white);
    assert.ok(a.info.faint!.direction.some((d) => d < 0), "nothing lighter than white can be seen");
    assert.ok(a.info.visibleFraction >= MIN_VISIBLE);
    // At least the contrast's share of full scale, less rounding, where it is labelled and not feathered.
    let darkest = 255;
    for (let p = 0; p < 64 * 64; p++) if (a.mask.data[p]) darkest = Math.min(darkest, a.image.rgb[3 * p]!, a.image.rgb[3 * p + 1]!, a.image.rgb[3 * p + 2]!);
    assert.ok(255 - darkest >= MASK_THRESHOLD);
  }
});
