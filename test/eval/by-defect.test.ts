import { test } from "node:test";
import assert from "node:assert/strict";
import { DefectGroups } from "../../src/eval/by-defect.js";
import { auroc, PixelMetricAccumulator } from "../../src/measures/metrics.js";
import { ProAccumulator } from "../../src/measures/pro.js";

/** A 4×2 map and mask (row-major, 4 wide). */
function img(values: number[], mask: number[]): { map: Float32Array; mask: Uint8Array } {
  return { map: Float32Array.from(values), mask: Uint8Array.from(mask) };
}

const GOOD = [
  { score: 1, ng: false, ...img([0.1, 0.2, 0.1, 0.3, 0.2, 0.1, 0.4, 0.2], [0, 0, 0, 0, 0, 0, 0, 0]) },
  { score: 3, ng: true, ...img([0.3, 0.2, 0.5, 0.1, 0.2, 0.6, 0.1, 0.1], [0, 0, 0, 0, 0, 0, 0, 0]) },
];
const CRACK = [
  { score: 5, ng: true, ...img([0.9, 0.8, 0.1, 0.1, 0.7, 0.2, 0.1, 0.1], [1, 1, 0, 0, 1, 0, 0, 0]) },
  { score: 2, ng: false, ...img([0.1, 0.1, 0.2, 0.15, 0.1, 0.1, 0.25, 0.35], [0, 0, 0, 0, 0, 0, 1, 1]) },
];
const HOLE = [{ score: 0.5, ng: false, ...img([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05], [0, 0, 0, 0, 0, 0, 0, 1]) }];

function fill(): DefectGroups {
  const g = new DefectGroups();
  // Interleaved, as a data set's folders are not: groups must not depend on the order.
  for (const [defect, anomalous, it] of [["good", false, GOOD[0]!], ["crack", true, CRACK[0]!], ["hole", true, HOLE[0]!], ["good", false, GOOD[1]!], ["crack", true, CRACK[1]!]] as const) {
    g.addImage(defect, anomalous, it.score, it.ng);
    g.addPixels(defect, anomalous, it.map, it.mask, 4);
  }
  return g;
}

/** The slow way: one accumulator fed just these images. */
function reference(images: readonly { map: Float32Array; mask: Uint8Array }[]) {
  const pixels = new PixelMetricAccumulator();
  const pro = new ProAccumulator();
  for (const it of images) {
    pixels.add(it.map, it.mask);
    pro.add(it.map, it.mask, 4);
  }
  return { pixels, pro };
}

test("each defect type is measured against the class's good images: image AUROC by hand, pixel metrics as one accumulator fed those images", () => {
  const m = fill().metrics();
  assert.deepEqual(Object.keys(m), ["crack", "hole"]);
  // crack scores {5, 2} against good {1, 3}: 5 beats both, 2 beats 1 → 3 of 4 pairs.
  assert.equal(m.crack!.image_auroc, 0.75);
  assert.equal(m.crack!.image_auroc, auroc([5, 2, 1, 3], [1, 1, 0, 0]));
  // hole 0.5 beats neither good image.
  assert.equal(m.hole!.image_auroc, 0);
  assert.deepEqual([m.crack!.images, m.crack!.caught, m.hole!.images, m.hole!.caught], [2, 1, 1, 0]);
  const crack = reference([...CRACK, ...GOOD]);
  assert.equal(m.crack!.pixel_auroc, crack.pixels.auroc());
  assert.equal(m.crack!.pixel_ap, crack.pixels.averagePrecision());
  assert.ok(Math.abs(m.crack!.pixel_aupro! - crack.pro.aupro()) < 1e-12);
  const hole = reference([...HOLE, ...GOOD]);
  assert.equal(m.hole!.pixel_auroc, hole.pixels.auroc());
  // The hole's one pixel (0.05) is below every normal pixel of its image and the good ones.
  assert.equal(m.hole!.pixel_auroc, 0);
});

test("the class's pixel accumulators are the sum of its groups: the same figures as one accumulator fed every image", () => {
  const summed = fill().classPixels()!;
  const all = reference([...GOOD, ...CRACK, ...HOLE]);
  assert.equal(summed.pixels.positives, all.pixels.positives);
  assert.equal(summed.pixels.negatives, all.pixels.negatives);
  assert.equal(summed.pixels.auroc(), all.pixels.auroc());
  assert.equal(summed.pixels.averagePrecision(), all.pixels.averagePrecision());
  assert.equal(summed.pro.regions, all.pro.regions);
  assert.ok(Math.abs(summed.pro.aupro() - all.pro.aupro()) < 1e-12);
});

test("without good images or masks the undefined figures are null, and a class without maps has no pixel accumulators", () => {
  const g = new DefectGroups();
  g.addImage("crack", true, 4, true);
  assert.equal(g.classPixels(), undefined);
  assert.deepEqual(g.metrics(), { crack: { images: 1, caught: 1, image_auroc: null, pixel_auroc: null, pixel_ap: null, pixel_aupro: null } });
  // Masks on the defect's images only, none on good ones: its own normal pixels still make the pixel metrics defined.
  g.addPixels("crack", true, CRACK[0]!.map, CRACK[0]!.mask, 4);
  const m = g.metrics().crack!;
  assert.equal(m.pixel_auroc, reference([CRACK[0]!]).pixels.auroc());
  assert.equal(m.image_auroc, null);
});

test("a bad map is refused before it counts: the groups are unchanged", () => {
  const g = fill();
  const before = g.metrics();
  assert.throws(() => g.addPixels("crack", true, Float32Array.from([0, -1, 0, 0, 0, 0, 0, 0]), new Uint8Array(8), 4), /negative or NaN/);
  assert.deepEqual(g.metrics(), before);
});
