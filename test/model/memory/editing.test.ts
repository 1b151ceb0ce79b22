import { test } from "node:test";
import assert from "node:assert/strict";
import { editFeatures, editingWeights } from "../../../src/model/memory/editing.js";
import { LafiteError } from "../../../src/util/errors.js";
import { createRng } from "../../../src/util/random.js";

function close(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

test("K=1 gives weight 1: plain nearest-neighbour replacement", () => {
  assert.deepEqual([...editingWeights([7.5])], [1]);
});

test("K=3 weights by hand: e^d = 1,2,3 → (1 − p)/(K−1) = 5/12, 4/12, 3/12", () => {
  close(editingWeights([0, Math.log(2), Math.log(3)]), [5 / 12, 4 / 12, 3 / 12], 1e-12);
});

test("a shift of all distances leaves the weights unchanged", () => {
  close(editingWeights([100, 100 + Math.log(2), 100 + Math.log(3)]), [5 / 12, 4 / 12, 3 / 12], 1e-12);
});

test("far outliers give finite weights: the farthest neighbour gets 0", () => {
  const w = editingWeights([1, 5000, 1e30]);
  close(w, [0.5, 0.5, 0], 0);
  close(editingWeights([0, 1000]), [1, 0], 0);
});

test("equal distances give equal weights", () => {
  close(editingWeights([2, 2, 2, 2]), [0.25, 0.25, 0.25, 0.25], 1e-15);
});

test("weights sum to 1 and the nearer neighbour never weighs less", () => {
  const rng = createRng(3);
  for (let k = 2; k <= 9; k++) {
    const d = Array.from({ length: k }, () => rng.next() * 10).sort((a, b) => a - b);
    const w = editingWeights(d);
    assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) - 1) < 1e-12, `K=${k}`);
    for (let i = 1; i < k; i++) assert.ok(w[i]! <= w[i - 1]!, `K=${k} rank ${i}`);
  }
});

test("a non-finite distance is rejected", () => {
  assert.throws(() => editingWeights([1, Number.NaN]), LafiteError);
  assert.throws(() => editingWeights([]), LafiteError);
});

// Coreset rows (c = 2): r0 = (1,0), r1 = (0,1), r2 = (2,2).
const coreset = Float32Array.from([1, 0, 0, 1, 2, 2]);

test("editFeatures with K=1 copies the nearest coreset row into each slice, channel-major", () => {
  const x = { data: new Float32Array(2 * 3), c: 2, h: 1, w: 3 };
  const e = editFeatures(x, Int32Array.from([2, 0, 1]), Float32Array.from([0.5, 9, 0]), 1, coreset, 2);
  assert.deepEqual([e.c, e.h, e.w], [2, 1, 3]);
  // Channel 0 then channel 1 of positions (r2, r0, r1).
  close(e.data, [2, 1, 0, 2, 0, 1], 0);
});

test("editFeatures with K=3 is the hand-computed weighted sum of neighbour rows", () => {
  const x = { data: Float32Array.from([9, 9, 9, 9]), c: 2, h: 2, w: 1 };
  const neighbours = Int32Array.from([0, 1, 2, 2, 0, 1]);
  const distances = Float32Array.from([0, Math.log(2), Math.log(3), 1, 1, 1]);
  const e = editFeatures(x, neighbours, distances, 3, coreset, 2);
  // Position 0: 5/12·(1,0) + 4/12·(0,1) + 3/12·(2,2) = (11/12, 10/12).
  // Position 1: equal weights → mean of r2, r0, r1 = (1, 1).
  close(e.data, [11 / 12, 1, 10 / 12, 1], 1e-6);
});

test("editFeatures rejects shape mismatches and out-of-range neighbours", () => {
  const x = { data: new Float32Array(2), c: 2, h: 1, w: 1 };
  assert.throws(() => editFeatures(x, Int32Array.from([0, 1]), Float32Array.from([0, 1]), 1, coreset, 2), LafiteError);
  assert.throws(() => editFeatures(x, Int32Array.from([3]), Float32Array.from([0]), 1, coreset, 2), LafiteError);
  assert.throws(() => editFeatures({ ...x, c: 3 }, Int32Array.from([0]), Float32Array.from([0]), 1, coreset, 2), LafiteError);
});
