import { test } from "node:test";
import assert from "node:assert/strict";
import { SHADE_BIAS, SHADE_GAIN, synthesizeShadeAnomaly } from "../../../src/image/pseudo/shade.js";
import { MIN_VISIBLE } from "../../../src/image/pseudo/anomaly.js";
import { maskArea } from "../../../src/image/pseudo/mask.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { flatImage, noiseImage } from "./helpers.js";

test("a shade anomaly re-lights the target's own pixels under its mask, in place, and nothing else", () => {
  let darker = 0;
  let brighter = 0;
  for (let seed = 0; seed < 20; seed++) {
    const target = noiseImage(64, 48, 5, seed % 2 === 1);
    const a = synthesizeShadeAnomaly(seededRng(seed), target);
    const { gain, bias, dx, dy, transform } = a.info.paste;
    assert.equal(a.info.shade, true);
    assert.deepEqual([dx, dy, transform], [0, 0, 0], "nothing moves");
    assert.ok(gain >= SHADE_GAIN[0] - 0.005 && gain <= SHADE_GAIN[1] + 0.005, `seed ${seed}: gain ${gain}`);
    assert.ok(Math.abs(bias) >= SHADE_BIAS[0] && Math.abs(bias) <= SHADE_BIAS[1], `seed ${seed}: bias ${bias}`);
    if (bias < 0) darker++;
    else brighter++;
    // v' = mean + gain·(v − mean) + bias, the mean over the masked pixels of all channels, clamped to 8 bits.
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 64 * 48; i++) {
      if (a.mask.data[i] === 0) continue;
      for (let c = 0; c < 3; c++) sum += target.rgb[3 * i + c]!;
      n += 3;
    }
    const mean = sum / n;
    for (let i = 0; i < 64 * 48; i++) {
      for (let c = 0; c < 3; c++) {
        const v = target.rgb[3 * i + c]!;
        const want = a.mask.data[i] === 0 ? v : Math.max(0, Math.min(255, Math.round(mean + gain * (v - mean) + bias)));
        assert.equal(a.image.rgb[3 * i + c], want, `seed ${seed}: pixel ${i} channel ${c}`);
      }
    }
    assert.equal(a.image.gray, target.gray);
    assert.equal(a.info.areaFraction, maskArea(a.mask) / (64 * 48));
    assert.ok(a.info.visibleFraction >= MIN_VISIBLE, `seed ${seed}: visible ${a.info.visibleFraction}`);
  }
  assert.ok(darker >= 4 && brighter >= 4, `${darker} darker, ${brighter} brighter of 20`);
});

test("a shade that cannot show (a white frame brightened) is drawn again; when no draw shows, one is still kept and says so", () => {
  const white = flatImage(40, 30, [255, 255, 255]);
  let kept = 0;
  for (let seed = 0; seed < 10; seed++) {
    const a = synthesizeShadeAnomaly(seededRng(seed), white);
    // Gain does nothing on a flat frame and brightening clips, so only a darker draw shows; 12 draws nearly always find one.
    if (a.info.paste.bias < 0) {
      assert.ok(a.info.visibleFraction >= MIN_VISIBLE);
      kept++;
    } else {
      assert.equal(a.info.visibleFraction, 0);
    }
  }
  assert.ok(kept >= 9, `${kept} of 10 found a darker draw`);
});
