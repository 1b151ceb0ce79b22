import { test } from "node:test";
import assert from "node:assert/strict";
import { emptyMask, maskBox } from "../../../src/image/pseudo/mask.js";
import { IDENTITY_PASTE, pasteFragment, transformOffset, visibleFraction, type ContentTransform } from "../../../src/image/pseudo/paste.js";
import { flatImage, noiseImage } from "./helpers.js";

function squareMask(w: number, h: number, x0: number, y0: number, size: number) {
  const m = emptyMask(w, h);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) m.data[y * w + x] = 1;
  return m;
}

test("inside the mask the pixels are the source's at the shifted place; outside the target is untouched", () => {
  const target = noiseImage(30, 20, 1);
  const source = noiseImage(30, 20, 2);
  const mask = squareMask(30, 20, 4, 5, 6);
  const out = pasteFragment(target, source, mask, maskBox(mask)!, { ...IDENTITY_PASTE, dx: 13, dy: 7 });
  for (let y = 0; y < 20; y++) {
    for (let x = 0; x < 30; x++) {
      const o = 3 * (y * 30 + x);
      const inside = mask.data[y * 30 + x] === 1;
      const s = 3 * ((y + 7) * 30 + (x + 13));
      for (let c = 0; c < 3; c++) assert.equal(out.rgb[o + c], inside ? source.rgb[s + c] : target.rgb[o + c], `(${x}, ${y}) channel ${c}`);
    }
  }
  assert.notEqual(out.rgb, target.rgb, "a new image; the target is not modified");
  assert.deepEqual(target.rgb, noiseImage(30, 20, 1).rgb);
});

test("the eight content transforms are the flips and quarter turns, each a bijection", () => {
  const seen = new Set<string>();
  for (let t = 0; t < 8; t++) {
    const image = [transformOffset(t as ContentTransform, 1, 2), transformOffset(t as ContentTransform, -3, 5)];
    seen.add(JSON.stringify(image));
    for (const [a, b] of image) assert.ok([1, 2, 3, 5].includes(Math.abs(a!)) && [1, 2, 3, 5].includes(Math.abs(b!)));
  }
  assert.equal(seen.size, 8);
  assert.deepEqual(transformOffset(0, 1, 2), [1, 2]);
  assert.deepEqual(transformOffset(1, 1, 2), [-1, 2]);
  assert.deepEqual(transformOffset(4, 1, 2), [2, 1]);
});

test("a horizontal flip mirrors the fragment within its box", () => {
  // Source: a horizontal ramp, value = 10·x.
  const w = 12;
  const source = flatImage(w, 4, [0, 0, 0]);
  for (let y = 0; y < 4; y++) for (let x = 0; x < w; x++) source.rgb.fill(10 * x, 3 * (y * w + x), 3 * (y * w + x) + 3);
  const target = flatImage(w, 4, [200, 200, 200]);
  const mask = emptyMask(w, 4);
  for (let x = 2; x <= 5; x++) mask.data[w + x] = 1;
  const out = pasteFragment(target, source, mask, maskBox(mask)!, { ...IDENTITY_PASTE, transform: 1 });
  // Box x = 2..5, centre 3.5: x maps to 7 − x.
  assert.deepEqual([2, 3, 4, 5].map((x) => out.rgb[3 * (w + x)]), [50, 40, 30, 20]);
});

test("re-lighting scales about the fragment mean and adds the bias, clamped to 8 bits", () => {
  const source = flatImage(4, 1, [0, 0, 0]);
  source.rgb.set([100, 100, 100, 200, 200, 200, 250, 250, 250, 0, 0, 0]);
  const target = flatImage(4, 1, [9, 9, 9]);
  const mask = emptyMask(4, 1);
  mask.data.set([1, 1, 1, 0]);
  // Mean 550/3 ≈ 183.33: 100 → 183.33 + 1.2·(−83.33) + 10 = 93.3; 200 → 213.3; 250 → 273.3 → 255.
  const out = pasteFragment(target, source, mask, maskBox(mask)!, { ...IDENTITY_PASTE, gain: 1.2, bias: 10 });
  assert.deepEqual([...out.rgb.filter((_, i) => i % 3 === 0)], [93, 213, 255, 9]);
});

test("a gray target gets the fragment's luma; an RGB target takes a gray fragment as is", () => {
  const rgbSource = flatImage(2, 1, [200, 100, 0]);
  const grayTarget = flatImage(2, 1, [50, 50, 50]);
  const mask = emptyMask(2, 1);
  mask.data[0] = 1;
  const out = pasteFragment(grayTarget, rgbSource, mask, maskBox(mask)!, IDENTITY_PASTE);
  // 0.299·200 + 0.587·100 = 118.5 → 119 (round half up).
  assert.deepEqual([...out.rgb], [119, 119, 119, 50, 50, 50]);
  assert.equal(out.gray, true);
  const rgbOut = pasteFragment(flatImage(2, 1, [1, 2, 3]), flatImage(2, 1, [70, 70, 70]), mask, maskBox(mask)!, IDENTITY_PASTE);
  assert.deepEqual([...rgbOut.rgb], [70, 70, 70, 1, 2, 3]);
  assert.equal(rgbOut.gray, false);
});

test("sizes must match", () => {
  const mask = squareMask(4, 4, 0, 0, 2);
  assert.throws(() => pasteFragment(flatImage(4, 4, [0, 0, 0]), flatImage(5, 4, [0, 0, 0]), mask, maskBox(mask)!, IDENTITY_PASTE), /equal sizes/);
});

test("visible fraction counts mask pixels changed by at least the threshold in some channel", () => {
  const before = flatImage(4, 1, [100, 100, 100]);
  const after = flatImage(4, 1, [100, 100, 100]);
  after.rgb.set([100, 111, 100], 0); // 11: not seen
  after.rgb.set([100, 100, 112], 3); // 12: seen
  after.rgb.set([0, 0, 0], 9); // outside the mask
  const mask = emptyMask(4, 1);
  mask.data.set([1, 1, 1, 0]);
  assert.equal(visibleFraction(before, after, mask, 12), 1 / 3);
  assert.equal(visibleFraction(before, after, emptyMask(4, 1), 12), 0);
});
