import { test } from "node:test";
import assert from "node:assert/strict";
import { loadTexture, OPTIONAL_REALISTIC_CLASSES, REALISTIC_CLASSES, renderRealisticSample } from "../../../../src/image/synth/realistic/index.js";
import type { RealisticSample } from "../../../../src/image/synth/realistic/sample.js";

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

/**
 * How a defective sample differs from its clean frame: marked pixels, those of them that changed, and
 * pixels that changed away from the mask (beyond a part's contact shadow); `visit` sees each marked pixel.
 */
function changes(s: RealisticSample, visit: (p: number) => void = () => {}) {
  const { width: w, height: h } = s.mask!;
  const ch = s.image.channels;
  let marked = 0;
  let changedInside = 0;
  let changedOutside = 0;
  for (let p = 0; p < w * h; p++) {
    let d = 0;
    for (let c = 0; c < ch; c++) d = Math.max(d, Math.abs(s.image.data[p * ch + c]! - s.clean!.data[p * ch + c]!));
    if (s.mask!.data[p]) {
      marked++;
      if (d > 12) changedInside++;
      visit(p);
    } else if (d > 40 && !nearMask(s.mask!.data, w, h, p, 6)) changedOutside++;
  }
  return { marked, changedInside, changedOutside };
}

test("realistic suite: a missing or extra part's mask is that part's footprint, and nothing else changed", async () => {
  const assembly = REALISTIC_CLASSES.find((c) => c.name === "assembly")!;
  const tex = { canvas: await loadTexture("canvas") };
  for (const label of ["missing_part", "extra_part"]) {
    for (let i = 0; i < 3; i++) {
      const s = renderRealisticSample(4, assembly, { split: "test", label, index: i }, tex);
      const w = s.mask!.width;
      let minX = w;
      let maxX = 0;
      const { marked, changedInside, changedOutside } = changes(s, (p) => {
        minX = Math.min(minX, p % w);
        maxX = Math.max(maxX, p % w);
      });
      // One nut: about 60 px across at this size, so a few thousand pixels.
      assert.ok(marked > 1500 && marked < 5000, `${label} ${i}: ${marked} px`);
      assert.ok(maxX - minX > 45 && maxX - minX < 80, `${label} ${i}: ${maxX - minX} px wide`);
      assert.ok(changedInside / marked > 0.9, `${label} ${i}: only ${changedInside} of ${marked} marked pixels changed`);
      // Only the part's contact shadow, a few pixels beside its footprint, may change outside the mask.
      assert.equal(changedOutside, 0, `${label} ${i}: ${changedOutside} px changed away from the mask`);
    }
  }
});

test("realistic kit: a frame's nuts share one material, steel or brass; an odd part's mask is the footprint of each nut of the other material, and nothing else changed", async () => {
  const kit = OPTIONAL_REALISTIC_CLASSES.find((c) => c.name === "kit")!;
  const tex = { canvas: await loadTexture("canvas") };
  const brassPixels = (img: { data: Uint8Array; channels: number }) => {
    let n = 0;
    for (let p = 0; p < img.data.length / img.channels; p++) if (img.data[p * 3]! - img.data[p * 3 + 2]! > 70) n++;
    return n;
  };
  // Normal frames: some all brass (eight nuts' worth of yellow pixels), some all steel (none).
  const counts = Array.from({ length: 12 }, (_, i) => brassPixels(renderRealisticSample(4, kit, { split: "train", label: "good", index: i }, tex).image));
  assert.ok(counts.some((n) => n > 8000) && counts.some((n) => n < 200), `brass pixels per frame: ${counts.join(", ")}`);
  assert.ok(counts.every((n) => n > 8000 || n < 200), `a normal frame mixes materials: ${counts.join(", ")}`);
  for (const [label, parts] of [["odd_part", 1], ["two_odd", 2]] as const) {
    for (let i = 0; i < 3; i++) {
      const s = renderRealisticSample(4, kit, { split: "test", label, index: i }, tex);
      const warmth = (img: { data: Uint8Array }, p: number) => img.data[p * 3]! - img.data[p * 3 + 2]!;
      let warmthShift = 0;
      const { marked, changedInside, changedOutside } = changes(s, (p) => (warmthShift += Math.abs(warmth(s.image, p) - warmth(s.clean!, p))));
      assert.ok(marked > 1500 * parts && marked < 5000 * parts, `${label} ${i}: ${marked} px`);
      assert.ok(changedInside / marked > 0.8, `${label} ${i}: only ${changedInside} of ${marked} marked pixels changed`);
      // The other material: yellow brass against neutral steel, whichever way round.
      assert.ok(warmthShift / marked > 50, `${label} ${i}: mean R−B shift ${warmthShift / marked}`);
      assert.equal(changedOutside, 0, `${label} ${i}: ${changedOutside} px changed away from the mask`);
    }
  }
});
