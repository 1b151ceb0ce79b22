import { test } from "node:test";
import assert from "node:assert/strict";
import { OPTIONAL_REALISTIC_CLASSES, REALISTIC_CLASSES, renderRealisticSample } from "../../../../src/image/synth/realistic/index.js";
import { seededRng } from "../../../../src/image/synth/rng.js";

test("realistic suite: every nut_gray defect covers under 0.5 % of the frame, and edge chips touch the part's border", () => {
  const nut = REALISTIC_CLASSES.find((c) => c.name === "nut_gray")!;
  for (const label of nut.defects) {
    for (let i = 0; i < 6; i++) {
      const s = renderRealisticSample(11, nut, { split: "test", label, index: i }, {});
      const { width: w, height: h } = s.mask!;
      let marked = 0;
      for (const v of s.mask!.data) if (v) marked++;
      assert.ok(marked > 0 && marked / (w * h) < 0.005, `${label} ${i}: ${marked} px`);
      if (label === "edge_chip") {
        // Where the chip is, the image now shows the dark belt: it differs from the clean image there.
        let changed = 0;
        for (let p = 0; p < w * h; p++) if (s.mask!.data[p] && Math.abs(s.image.data[p]! - s.clean!.data[p]!) > 20) changed++;
        assert.ok(changed / marked > 0.5, `edge chip ${i}: only ${changed} of ${marked} marked pixels changed`);
      }
    }
  }
});

test("realistic glass_plate (optional): each defect is the rim taking another course, chips and broken corners under 0.5 % of the frame, a wrong angle along one side, and the mask holds what it changed", () => {
  const glass = OPTIONAL_REALISTIC_CLASSES.find((c) => c.name === "glass_plate")!;
  assert.ok(!REALISTIC_CLASSES.includes(glass), "optional: the default suite's figures stay comparable");
  for (const label of glass.defects) {
    for (let i = 0; i < 6; i++) {
      const s = renderRealisticSample(11, glass, { split: "test", label, index: i }, {});
      const { width: w, height: h } = s.mask!;
      let marked = 0;
      let changedInside = 0;
      let changedOutside = 0;
      for (let p = 0; p < w * h; p++) {
        const d = Math.abs(s.image.data[p]! - s.clean!.data[p]!);
        if (s.mask!.data[p]) {
          marked++;
          if (d > 8) changedInside++;
        } else if (d > 8) changedOutside++;
      }
      assert.ok(marked > 0 && marked / (w * h) < (label === "wrong_angle" ? 0.015 : 0.005), `${label} ${i}: ${marked} px`);
      // The rim moved: a fifth of the marked pixels change by 8 levels or more (the rest is glass whose look barely differs from
      // the diffuser's, and a rim facing away from the light is faint).
      assert.ok(changedInside / marked > 0.2, `${label} ${i}: only ${changedInside} of ${marked} marked pixels changed`);
      // Outside it, nothing but where a wrong angle's side stands under 0.2 px off (its pivot end, left unmarked).
      assert.ok(changedOutside <= (label === "wrong_angle" ? 0.03 * marked : 0), `${label} ${i}: ${changedOutside} pixels changed outside the mask`);
    }
  }
  // The scene's outline lies on the plate's contour: within a pixel of each point the rim is darker than the frame's median.
  for (const seed of [1, 2, 3]) {
    const scene = glass.render(seededRng(seed), 256, 256, {});
    const median = [...scene.image.data].sort((p, q) => p - q)[scene.image.data.length >> 1]!;
    assert.equal(scene.outline!.length, 64);
    for (const [x, y] of scene.outline!) {
      let darkest = Infinity;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) darkest = Math.min(darkest, scene.image.data[(Math.round(y) + dy) * 256 + Math.round(x) + dx]!);
      assert.ok(darkest < median - 0.02, `seed ${seed}: (${x.toFixed(1)}, ${y.toFixed(1)}) is ${darkest.toFixed(3)}, median ${median.toFixed(3)}`);
    }
  }
  // Good frames are plates turned every way: the rim's direction differs between two of them.
  const [a, b] = [0, 1].map((index) => renderRealisticSample(11, glass, { split: "train", label: "good", index }, {}).image.data);
  let differ = 0;
  for (let p = 0; p < a!.length; p++) if (Math.abs(a![p]! - b![p]!) > 20) differ++;
  assert.ok(differ > 500, `two good frames differ in ${differ} pixels`);
});
