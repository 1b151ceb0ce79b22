import { test } from "node:test";
import assert from "node:assert/strict";
import { PixelMetricAccumulator, auroc, averagePrecision, separation } from "../../src/measures/metrics.js";
import { LafiteError } from "../../src/util/errors.js";
import { createRng } from "../../src/util/random.js";

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("perfect ranking: AUROC 1 and AP 1", () => {
  assert.equal(auroc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(averagePrecision([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
});

test("inverted ranking: AUROC 0, AP = ½·⅓ + ½·½ = 5/12", () => {
  assert.equal(auroc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]), 0);
  near(averagePrecision([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0]), 5 / 12);
});

test("all scores tied: AUROC ½, AP = positive rate (one threshold)", () => {
  assert.equal(auroc([3, 3, 3, 3, 3], [1, 0, 1, 0, 0]), 0.5);
  near(averagePrecision([3, 3, 3, 3, 3], [1, 0, 1, 0, 0]), 2 / 5);
});

test("small case with ties by hand: AUROC 7/9, AP 34/45", () => {
  // Positives 0.4, 0.8, 0.9 vs negatives 0.1, 0.4, 0.8: wins 1.5 + 2.5 + 3 of 9 pairs.
  // AP over thresholds 0.9, 0.8, 0.4: ⅓·1 + ⅓·⅔ + ⅓·⅗.
  const scores = [0.8, 0.1, 0.4, 0.9, 0.4, 0.8];
  const labels = [1, 0, 0, 1, 1, 0];
  near(auroc(scores, labels), 7 / 9);
  near(averagePrecision(scores, labels), 34 / 45);
});

test("boolean labels are accepted, and nonzero numbers count as positive", () => {
  near(auroc([0.8, 0.1, 0.4, 0.9, 0.4, 0.8], [true, false, false, true, true, false]), 7 / 9);
  near(auroc([0.8, 0.1, 0.4, 0.9, 0.4, 0.8], [255, 0, 0, 2, 1, 0]), 7 / 9);
});

test("a single class or mismatched lengths throw a clear error", () => {
  assert.throws(() => auroc([0.1, 0.2], [1, 1]), (e: unknown) => e instanceof LafiteError && /only positive/.test(e.message));
  assert.throws(() => averagePrecision([0.1, 0.2], [0, 0]), (e: unknown) => e instanceof LafiteError && /only negative/.test(e.message));
  assert.throws(() => auroc([0.1], [0, 1]), LafiteError);
  assert.throws(() => auroc([Number.NaN, 1], [0, 1]), LafiteError);
});

test("exact AUROC equals the O(n²) pair count on random data with ties", () => {
  const rng = createRng(2);
  const scores = Array.from({ length: 400 }, () => Math.round(rng.next() * 50) / 50);
  const labels = scores.map((s) => (rng.next() < 0.3 + s * 0.4 ? 1 : 0));
  let wins = 0, pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
  }
  near(auroc(scores, labels), wins / pairs);
});

function randomPixels(n: number, seed: number): { scores: Float32Array; mask: Uint8Array } {
  const rng = createRng(seed);
  const mask = Uint8Array.from({ length: n }, () => (rng.next() < 0.1 ? 1 : 0));
  const scores = Float32Array.from(mask, (m) => Math.abs(rng.normal() + (m ? 1.2 : 0)));
  return { scores, mask };
}

test("binned pixel metrics agree with the exact ones within 1e-3 on random maps", () => {
  const acc = new PixelMetricAccumulator();
  const all = { scores: [] as number[], labels: [] as number[] };
  for (let m = 0; m < 4; m++) {
    const { scores, mask } = randomPixels(50_000, 10 + m);
    acc.add(scores, mask);
    all.scores.push(...scores);
    all.labels.push(...mask);
  }
  assert.equal(acc.positives + acc.negatives, 200_000);
  assert.equal(acc.positives, all.labels.filter((l) => l).length);
  near(acc.auroc(), auroc(all.scores, all.labels), 1e-3);
  near(acc.averagePrecision(), averagePrecision(all.scores, all.labels), 1e-3);
});

test("binned pixel metrics are exact when distinct scores fall in distinct bins", () => {
  const rng = createRng(5);
  // Values 1.001^i differ by 1e-3 relative, more than one bin (2^-12 ≈ 2.4e-4); repeats tie exactly.
  const levels = Array.from({ length: 300 }, (_, i) => Math.fround(0.01 * 1.001 ** i));
  const scores = Float32Array.from({ length: 5000 }, () => levels[Math.floor(rng.next() * levels.length)]!);
  const mask = Uint8Array.from(scores, (s) => (rng.next() < s * 40 ? 1 : 0));
  scores[0] = 0;
  scores[1] = -0;
  scores[2] = Infinity;
  const acc = new PixelMetricAccumulator();
  acc.add(scores, mask);
  near(acc.auroc(), auroc(scores, mask));
  near(acc.averagePrecision(), averagePrecision(scores, mask));
});

test("negative or NaN pixel scores are rejected and nothing of that map is counted", () => {
  const acc = new PixelMetricAccumulator();
  acc.add(Float32Array.from([0.5, 0.2]), Uint8Array.from([1, 0]));
  assert.throws(() => acc.add(Float32Array.from([0.1, -0.1]), Uint8Array.from([0, 1])), LafiteError);
  assert.throws(() => acc.add(Float32Array.from([Number.NaN, 1]), Uint8Array.from([0, 1])), LafiteError);
  assert.throws(() => acc.add(Float32Array.from([1]), Uint8Array.from([0, 1])), LafiteError);
  assert.equal(acc.positives, 1);
  assert.equal(acc.negatives, 1);
  assert.equal(acc.auroc(), 1);
});

test("an accumulator with one class only throws on read", () => {
  const acc = new PixelMetricAccumulator();
  acc.add(Float32Array.from([0.5, 0.2]), Uint8Array.from([0, 0]));
  assert.throws(() => acc.auroc(), LafiteError);
  assert.throws(() => acc.averagePrecision(), LafiteError);
  // What a sweep records instead: null until both classes are there, then the AUROC (a positive 0.3 above one of the negatives 0.5 and 0.2: 1/2).
  assert.equal(acc.aurocOrNull(), null);
  assert.equal(new PixelMetricAccumulator().aurocOrNull(), null);
  acc.add(Float32Array.from([0.3]), Uint8Array.from([1]));
  assert.equal(acc.aurocOrNull(), 0.5);
  assert.equal(acc.aurocOrNull(), acc.auroc());
});

test("a sum of accumulators over disjoint score ranges, an empty one among them, equals one accumulator fed every map", () => {
  const rng = createRng(11);
  const maps = [0.001, 1, 1000].map((scale) => {
    const scores = Float32Array.from({ length: 300 }, () => scale * rng.next());
    const mask = Uint8Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 1 : 0));
    return { scores, mask };
  });
  const parts = maps.map(({ scores, mask }) => {
    const a = new PixelMetricAccumulator();
    a.add(scores, mask);
    return a;
  });
  const all = new PixelMetricAccumulator();
  for (const { scores, mask } of maps) all.add(scores, mask);
  const summed = PixelMetricAccumulator.sum([new PixelMetricAccumulator(), ...parts]);
  assert.equal(summed.auroc(), all.auroc());
  assert.equal(summed.averagePrecision(), all.averagePrecision());
  // And both agree with the exact figures, as any binned accumulator does.
  const scores = maps.flatMap((m) => [...m.scores]);
  const labels = maps.flatMap((m) => [...m.mask]);
  assert.ok(Math.abs(all.auroc() - auroc(scores, labels)) < 1e-3);
  assert.ok(Math.abs(all.averagePrecision() - averagePrecision(scores, labels)) < 1e-3);
});

test("separation by hand: negatives 1, 2, 3 (mean 2, sd √(2/3)), positives 5 and 7 (mean 6): 4 / √(2/3) = 4.899; undefined cases are null", () => {
  assert.ok(Math.abs(separation([1, 5, 2, 7, 3], [0, 1, 0, 1, 0])! - 4 / Math.sqrt(2 / 3)) < 1e-12);
  // Below the negatives it is negative; where AUROC is 1 for both, the farther positives separate more.
  assert.ok(separation([1, 2, 3, 0], [0, 0, 0, 1])! < 0);
  assert.equal(auroc([1, 2, 3, 5], [0, 0, 0, 1]), auroc([1, 2, 3, 9], [0, 0, 0, 1]));
  assert.ok(separation([1, 2, 3, 9], [0, 0, 0, 1])! > separation([1, 2, 3, 5], [0, 0, 0, 1])!);
  assert.equal(separation([1, 2, 3], [0, 0, 0]), null);
  assert.equal(separation([1, 5], [0, 1]), null);
  assert.equal(separation([2, 2, 5], [0, 0, 1]), null);
  assert.throws(() => separation([1, 2], [0]), LafiteError);
});
