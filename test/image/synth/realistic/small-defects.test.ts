import { test } from "node:test";
import assert from "node:assert/strict";
import { REALISTIC_CLASSES, renderRealisticSample } from "../../../../src/image/synth/realistic/index.js";

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
