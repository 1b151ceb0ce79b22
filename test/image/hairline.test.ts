import { test } from "node:test";
import assert from "node:assert/strict";
import { HAIRLINE_CONTRAST, synthesizeHairline } from "../../src/image/pseudo/hairline.js";
import { seededRng } from "../../src/image/synth/rng.js";

test("a hairline changes only its mask's pixels, each by 4–10 % of its level one way, in a thin line of about 20–60 % of the short side", () => {
  const [width, height] = [300, 200];
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 120 + ((i * 7) % 50);
  const target = { width, height, rgb, gray: false };
  for (let seed = 0; seed < 20; seed++) {
    const { image, mask } = synthesizeHairline(target, seededRng(seed));
    assert.deepEqual([image.width, image.height, image.gray], [width, height, false]);
    let marked = 0;
    let direction = 0;
    for (let i = 0; i < mask.length; i++) {
      for (let ch = 0; ch < 3; ch++) {
        const [before, after] = [rgb[3 * i + ch]!, image.rgb[3 * i + ch]!];
        if (!mask[i]) {
          assert.equal(after, before, `seed ${seed}: pixel ${i} outside the line changed`);
          continue;
        }
        const ratio = after / before;
        // Rounded to whole levels: within half a level of the contrast range.
        assert.ok(Math.abs(ratio - 1) >= HAIRLINE_CONTRAST[0] - 0.5 / before && Math.abs(ratio - 1) <= HAIRLINE_CONTRAST[1] + 0.5 / before, `seed ${seed}: ${before} → ${after}`);
        const sign = Math.sign(ratio - 1);
        if (direction === 0) direction = sign;
        assert.equal(sign, direction, `seed ${seed}: the line darkens and lightens at once`);
      }
      marked += mask[i]!;
    }
    // A 1–2 px line of 40–120 px, clipped by nothing (it starts inside a margin): 40 to about 2 × 120 × 1.5 pixels.
    assert.ok(marked >= 35 && marked <= 400, `seed ${seed}: ${marked} pixels`);
  }
  // The same stream draws the same line; the target is left as it was.
  assert.deepEqual(synthesizeHairline(target, seededRng(3)).mask, synthesizeHairline(target, seededRng(3)).mask);
  assert.equal(rgb[0], 120);
});
