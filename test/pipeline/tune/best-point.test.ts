import { test } from "node:test";
import assert from "node:assert/strict";
import { bestPointIndex, compareTuningPoints } from "../../../src/pipeline/tune/best-point.js";
import { deltaTFor } from "../../../src/pipeline/tune/run-tuning.js";
import { ClassPixelAuroc, meanClassAuroc } from "../../../src/pipeline/tune/score-set.js";
import { PixelMetricAccumulator } from "../../../src/measures/metrics.js";
import { maskToInput, type Placement } from "../../../src/image/geometry.js";

test("the best sweep point: image AUROC first, pixel AUROC breaks ties, then the earliest point", () => {
  const p = (image: number | null, pixel: number | null) => ({ image_auroc: image, pixel_auroc: pixel });
  assert.equal(bestPointIndex([p(0.8, 0.9), p(0.9, 0.1), p(0.85, 0.99)]), 1);
  assert.equal(bestPointIndex([p(0.9, 0.5), p(0.9, 0.7), p(0.9, 0.6)]), 1);
  assert.equal(bestPointIndex([p(0.9, 0.7), p(0.9, 0.7)]), 0);
  assert.equal(bestPointIndex([p(null, null), p(0.5, null)]), 1);
  // Float noise below the tolerance is a tie: the earlier point stays.
  assert.equal(bestPointIndex([p(0.9, 0.7), p(0.9 + 1e-12, 0.7)]), 0);
  assert.equal(compareTuningPoints(p(0.5, 0.5), p(0.5, 0.5)), 0);
  assert.throws(() => bestPointIndex([]));
});

test("Δt follows τ by the number of DDIM steps, never below 1", () => {
  assert.equal(deltaTFor(50, 1), 50);
  assert.equal(deltaTFor(100, 4), 25);
  assert.equal(deltaTFor(10, 4), 3); // 2.5 rounds up
  assert.equal(deltaTFor(2, 50), 1);
});

test("pseudo-validation image AUROC is the mean over classes that have both labels", () => {
  const set = [
    { cls: "a", anomalous: false },
    { cls: "a", anomalous: true },
    { cls: "b", anomalous: false },
    { cls: "b", anomalous: true },
    { cls: "b", anomalous: true },
    { cls: "c", anomalous: true }, // one label only: left out
  ];
  // a: 1.0 (anomaly 2 > normal 1); b: normal 5 vs anomalies 4, 6 → 0.5; mean 0.75
  assert.equal(meanClassAuroc(set, [1, 2, 5, 4, 6, 9]), 0.75);
  assert.equal(meanClassAuroc([{ cls: "a", anomalous: true }], [1]), null);
});

test("pixel AUROC per class, then the mean: two classes each ranked perfectly score 1, where pooling their pixels gives 0.65", () => {
  const per = new ClassPixelAuroc();
  assert.equal(per.mean(), null);
  const sample = (cls: string, mask?: number[], place?: Placement) => ({ cls, x: { data: new Float32Array(1), c: 1, h: 1, w: 1, ...(place ? { place } : {}) }, ...(mask ? { mask: Uint8Array.from(mask) } : {}) });
  // 2×2 maps. Class a: normals 1, 2, 1.5 and an anomaly 3. Class b, on a higher scale: normals 10–11, an anomaly 12.
  per.addFrame(sample("a", [0, 0, 1, 0]), Float32Array.from([1, 2, 3, 1.5]), 2);
  assert.equal(per.mean(), 1);
  per.addFrame(sample("b"), Float32Array.from([10, 11, 10.5, 10.2]), 2); // a normal image: no mask
  assert.equal(per.mean(), 1, "b has no positive yet: left out");
  per.addFrame(sample("b", [1, 0, 0, 0]), Float32Array.from([12, 10.1, 10.3, 10.4]), 2);
  assert.equal(per.mean(), 1);
  // Pooled, anomaly 3 beats 3 of the 10 normals and 12 beats all 10: 13 / 20.
  const pooled = new PixelMetricAccumulator();
  pooled.add(Float32Array.from([1, 2, 3, 1.5, 10, 11, 10.5, 10.2, 12, 10.1, 10.3, 10.4]), Uint8Array.from([0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0]));
  assert.equal(pooled.auroc(), 0.65);
  // A class ranked at chance pulls the mean to (1 + 1 + 0.5) / 3.
  per.addFrame(sample("c", [0, 1, 0, 0]), Float32Array.from([5, 5, 5, 5]), 2);
  assert.ok(Math.abs(per.mean()! - 2.5 / 3) < 1e-12);
});

test("a letterboxed sample's pixels count over its frame only", () => {
  // The frame is the top row of a 2×2 input; the border row below it scores 9 (a mirrored anomaly, say).
  const x = { data: new Float32Array(1), c: 1, h: 1, w: 1, place: { x: 0, y: 0, w: 2, h: 1 } };
  const map = Float32Array.from([1, 3, 9, 9]);
  const framed = new ClassPixelAuroc();
  framed.addFrame({ cls: "a", x, mask: Uint8Array.from([0, 1, 0, 0]) }, map, 2);
  assert.equal(framed.mean(), 1);
  const whole = new ClassPixelAuroc();
  whole.addFrame({ cls: "a", x: { ...x, place: { x: 0, y: 0, w: 2, h: 2 } }, mask: Uint8Array.from([0, 1, 0, 0]) }, map, 2);
  assert.ok(Math.abs(whole.mean()! - 1 / 3) < 1e-12, "the border's 9s outrank the anomaly's 3");
  assert.throws(() => framed.addFrame({ cls: "a", x }, Float32Array.from([1, 2, 3]), 2), /not 2×2/);
});

test("a mask stretched to S×S by nearest neighbour, like the image", () => {
  // 4×2 mask with the right half set → 2×2: right column set.
  const m = Uint8Array.from([0, 0, 1, 1, 0, 0, 1, 1]);
  assert.deepEqual([...maskToInput(m, { width: 4, height: 2 }, 2)], [0, 1, 0, 1]);
  // Upsampling keeps it binary (0/1 even from 0/255 input).
  assert.deepEqual([...maskToInput(Uint8Array.from([255, 0]), { width: 2, height: 1 }, 4)], [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
});
