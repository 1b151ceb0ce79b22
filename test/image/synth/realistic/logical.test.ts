import { test } from "node:test";
import assert from "node:assert/strict";
import { loadTexture, REALISTIC_CLASSES, renderRealisticSample } from "../../../../src/image/synth/realistic/index.js";

function nearMask(mask: Uint8Array, w: number, h: number, p: number, r: number): boolean {
  const x = p % w;
  const y = Math.floor(p / w);
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if (xx >= 0 && yy >= 0 && xx < w && yy < h && mask[yy * w + xx]) return true;
    }
  }
  return false;
}

test("realistic suite: a missing or extra part's mask is that part's footprint, and nothing else changed", async () => {
  const assembly = REALISTIC_CLASSES.find((c) => c.name === "assembly")!;
  const tex = { canvas: await loadTexture("canvas") };
  for (const label of ["missing_part", "extra_part"]) {
    for (let i = 0; i < 3; i++) {
      const s = renderRealisticSample(4, assembly, { split: "test", label, index: i }, tex);
      const { width: w, height: h } = s.mask!;
      const ch = s.image.channels;
      let marked = 0;
      let changedInside = 0;
      let changedOutside = 0;
      let minX = w;
      let maxX = 0;
      for (let p = 0; p < w * h; p++) {
        let d = 0;
        for (let c = 0; c < ch; c++) d = Math.max(d, Math.abs(s.image.data[p * ch + c]! - s.clean!.data[p * ch + c]!));
        if (s.mask!.data[p]) {
          marked++;
          if (d > 12) changedInside++;
          minX = Math.min(minX, p % w);
          maxX = Math.max(maxX, p % w);
        } else if (d > 40 && !nearMask(s.mask!.data, w, h, p, 6)) changedOutside++;
      }
      // One nut: about 60 px across at this size, so a few thousand pixels.
      assert.ok(marked > 1500 && marked < 5000, `${label} ${i}: ${marked} px`);
      assert.ok(maxX - minX > 45 && maxX - minX < 80, `${label} ${i}: ${maxX - minX} px wide`);
      assert.ok(changedInside / marked > 0.9, `${label} ${i}: only ${changedInside} of ${marked} marked pixels changed`);
      // Only the part's contact shadow, a few pixels beside its footprint, may change outside the mask.
      assert.equal(changedOutside, 0, `${label} ${i}: ${changedOutside} px changed away from the mask`);
    }
  }
});
