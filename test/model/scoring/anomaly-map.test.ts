import { test } from "node:test";
import assert from "node:assert/strict";
import { anomalyMap, axisOperator, gaussianBlur, gaussianRadius, imageScore, reconstructionError, resizeBilinear, topFractionMean } from "../../../src/model/scoring/anomaly-map.js";
import { LafiteError } from "../../../src/util/errors.js";
import { createRng } from "../../../src/util/random.js";

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}

function randomMap(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next());
}

test("reconstruction error sums squared differences over channels per position", () => {
  const x = { data: Float32Array.from([0, 1, 2, 0, 0, 0]), c: 2, h: 1, w: 3 };
  const rec = { data: Float32Array.from([1, 1, 0, 2, 0, 3]), c: 2, h: 1, w: 3 };
  // Position 0: 1² + 2², position 1: 0, position 2: 2² + 3².
  assert.deepEqual([...reconstructionError(rec, x)], [5, 0, 13]);
});

test("bilinear 2×2 → 4×4 with half-pixel centres and edge clamping (PyTorch align_corners=False)", () => {
  const out = resizeBilinear(Float32Array.from([0, 1, 2, 3]), 2, 2, 4, 4);
  // Source x for destination 0..3 is −0.25→0 (clamped), 0.25, 0.75, 1.25→1 (clamped).
  close(out, [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3], 1e-7);
});

test("bilinear resize to the same size is the identity", () => {
  const src = randomMap(5 * 3, 1);
  assert.deepEqual(resizeBilinear(src, 5, 3, 5, 3), src);
});

test("bilinear downsampling by 2 averages each 2×2 block", () => {
  // Half-pixel centres of a 2× reduction fall exactly between source pixels.
  const out = resizeBilinear(Float32Array.from([0, 2, 4, 6, 8, 10, 12, 14]), 4, 2, 2, 1);
  close(out, [(0 + 2 + 8 + 10) / 4, (4 + 6 + 12 + 14) / 4], 1e-6);
});

test("kernel radius is 4σ rounded half up, as anomalib's 2·int(4σ+0.5)+1", () => {
  assert.equal(gaussianRadius(4), 16);
  assert.equal(gaussianRadius(1.1), 4);
  assert.equal(gaussianRadius(0.5), 2);
});

test("blur keeps a constant map constant, even when the kernel is wider than the map", () => {
  const src = new Float32Array(7 * 3).fill(2.5);
  close(gaussianBlur(src, 7, 3, 4), src, 1e-6);
});

test("blur preserves the sum of an interior impulse and spreads it symmetrically", () => {
  const n = 41, c = 20;
  const src = new Float32Array(n * n);
  src[c * n + c] = 1;
  const out = gaussianBlur(src, n, n, 2); // radius 8 < 20: no border involved
  close([out.reduce((s, v) => s + v, 0)], [1], 1e-6);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = out[y * n + x]!;
      assert.ok(Math.abs(v - out[y * n + (n - 1 - x)]!) < 1e-9, "left-right");
      assert.ok(Math.abs(v - out[(n - 1 - y) * n + x]!) < 1e-9, "up-down");
      assert.ok(Math.abs(v - out[x * n + y]!) < 1e-9, "transpose");
    }
  }
  // Centre weight of the 2-D kernel: (1 / Σ_{|i|≤8} e^{−i²/8})².
  let z = 0;
  for (let i = -8; i <= 8; i++) z += Math.exp(-(i * i) / 8);
  close([out[c * n + c]!], [1 / (z * z)], 1e-7);
});

test("separable blur equals a direct 2-D convolution with PyTorch-style reflect padding", () => {
  const w = 23, h = 17, sigma = 1.5, r = 6; // r < both sides, as PyTorch requires
  const src = randomMap(w * h, 4);
  // Independent reference: explicit padded image, then the full 2-D kernel.
  const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const g = (i: number) => Math.exp(-(i * i) / (2 * sigma * sigma));
  let z = 0;
  for (let i = -r; i <= r; i++) z += g(i);
  const expected = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) s += (g(dx) * g(dy) / (z * z)) * src[reflect(y + dy, h) * w + reflect(x + dx, w)]!;
      }
      expected[y * w + x] = s;
    }
  }
  close(gaussianBlur(src, w, h, sigma), expected, 1e-6);
});

test("image score: 2×2 average pooling over a 3×3 map by hand", () => {
  const map = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Windows average to 3, 4, 6, 7.
  assert.equal(imageScore(map, 3, 3, 2), 7);
  assert.equal(imageScore(map, 3, 3, 1), 9);
  assert.equal(imageScore(map, 3, 3, 3), 5);
});

test("image score on a non-square map finds the best window", () => {
  // 4×2: windows of 2×2 at x=0,1,2 average (0+0+0+4)/4=1, (0+8+4+4)/4=4, (8+0+4+0)/4=3.
  const map = Float32Array.from([0, 0, 8, 0, 0, 4, 4, 0]);
  assert.equal(imageScore(map, 4, 2, 2), 4);
});

test("a pool larger than the map is rejected", () => {
  assert.throws(() => imageScore(new Float32Array(6), 3, 2, 3), LafiteError);
});

test("anomalyMap is upsample-then-blur: the banded product against resizeBilinear then gaussianBlur, and a constant map stays constant", () => {
  // [grid h, grid w, S, σ]: the served shape, non-square grids, S not a multiple of the grid, a radius past the map (reflection repeats), σ < 1.
  const shapes: [number, number, number, number][] = [[28, 28, 224, 4], [4, 3, 16, 1], [3, 7, 20, 2.5], [5, 5, 12, 6], [28, 28, 224, 0.6], [1, 4, 9, 1]];
  for (const [h, w, S, sigma] of shapes) {
    const scores = randomMap(h * w, h * 100 + w);
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! * 50;
    const reference = gaussianBlur(resizeBilinear(scores, w, h, S, S), S, S, sigma);
    close(anomalyMap(scores, h, w, S, sigma), reference, 5e-5);
  }
  const flat = anomalyMap(new Float32Array(4 * 3).fill(0.7), 4, 3, 32);
  assert.equal(flat.length, 32 * 32);
  close(flat, new Float32Array(32 * 32).fill(0.7), 1e-6);
  assert.throws(() => anomalyMap(new Float32Array(5), 2, 3, 8), LafiteError);
  assert.throws(() => anomalyMap(new Float32Array(6), 2, 3, 8, 0), LafiteError);
});

test("each row of an axis operator sums to 1 (upsampling and blur both keep a constant) and touches a narrow band of the grid", () => {
  const op = axisOperator(28, 224, 4);
  for (let X = 0; X < 224; X++) {
    let sum = 0;
    for (let j = 0; j < 28; j++) sum += op.weights[X * 28 + j]!;
    assert.ok(Math.abs(sum - 1) < 1e-12, `row ${X} sums to ${sum}`);
    for (let j = 0; j < 28; j++) if (j < op.from[X]! || j >= op.to[X]!) assert.equal(op.weights[X * 28 + j], 0);
    // Radius 16 output pixels is 2 grid cells each side, plus the bilinear taps.
    assert.ok(op.to[X]! - op.from[X]! <= 6, `row ${X} spans ${op.from[X]}..${op.to[X]}`);
  }
  // Half-pixel centres and reflection are both symmetric: output X from cell j weighs as output S−1−X from cell n−1−j.
  for (let X = 0; X < 224; X++) for (let j = 0; j < 28; j++) assert.ok(Math.abs(op.weights[X * 28 + j]! - op.weights[(223 - X) * 28 + 27 - j]!) < 1e-12);
  const mid = axisOperator(2, 4, 0.1); // radius 0: the bilinear taps alone, (x + 0.5)·2/4 − 0.5 = −0.25, 0.25, 0.75, 1.25 clamped
  assert.deepEqual([...mid.weights].map((v) => Math.round(v * 1e9) / 1e9), [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
});

test("topFractionMean: hand-computed means of the largest values", () => {
  const map = Float32Array.from([5, 1, 9, 3, 7, 2, 8, 4, 6, 0]);
  // 10 % of 10 values is 1 value: the maximum.
  assert.equal(topFractionMean(map, 0.1), 9);
  // 25 % → ⌈2.5⌉ = 3 values: (9 + 8 + 7) / 3.
  assert.equal(topFractionMean(map, 0.25), 8);
  assert.equal(topFractionMean(map, 1), 4.5);
  // Tiny fractions still take one value.
  assert.equal(topFractionMean(map, 1e-9), 9);
  assert.throws(() => topFractionMean(map, 0), /top fraction/);
  assert.throws(() => topFractionMean(new Float32Array(0), 0.5), /empty/);
});

test("topFractionMean equals the mean of the top values of a full sort (slow reference), on random, constant, sorted and tied maps", () => {
  const rng = createRng(7);
  const reference = (map: Float32Array, fraction: number) => {
    const k = Math.max(1, Math.ceil(fraction * map.length));
    const sorted = Array.from(map).sort((a, b) => b - a);
    return sorted.slice(0, k).reduce((s, v) => s + v, 0) / k;
  };
  const maps = [
    Float32Array.from({ length: 224 * 224 }, () => rng.next()),
    new Float32Array(1000).fill(0.25),
    Float32Array.from({ length: 999 }, (_, i) => i),
    Float32Array.from({ length: 999 }, (_, i) => 999 - i),
    Float32Array.from({ length: 5000 }, () => Math.floor(rng.next() * 4)),
    Float32Array.from([3]),
  ];
  for (const map of maps) {
    for (const fraction of [1e-6, 0.001, 0.01, 0.1, 0.5, 1]) {
      const got = topFractionMean(map, fraction);
      const want = reference(map, fraction);
      assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `n=${map.length} fraction=${fraction}: ${got} vs ${want}`);
    }
  }
  // The input is left as it was.
  const map = Float32Array.from([5, 1, 9, 3]);
  topFractionMean(map, 0.5);
  assert.deepEqual(Array.from(map), [5, 1, 9, 3]);
});
