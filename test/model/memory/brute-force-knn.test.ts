import { test } from "node:test";
import assert from "node:assert/strict";
import { bruteForceKnn } from "../../../src/model/memory/brute-force-knn.js";
import { LafiteError } from "../../../src/util/errors.js";
import { createRng } from "../../../src/util/random.js";

function randoms(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Independent reference: every distance as a sum of squared differences, then a stable sort. */
function naive(base: Float32Array, n: number, q: Float32Array, nq: number, dim: number, k: number) {
  const out: { idx: number; d: number }[][] = [];
  for (let a = 0; a < nq; a++) {
    const row = [];
    for (let b = 0; b < n; b++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (q[a * dim + j]! - base[b * dim + j]!) ** 2;
      row.push({ idx: b, d });
    }
    row.sort((x, y) => x.d - y.d || x.idx - y.idx);
    out.push(row.slice(0, k));
  }
  return out;
}

test("matches the naive triple loop (query count and dim not multiples of the block)", () => {
  // 7 queries exercise both the 4-query block and the remainder; 5000 rows span several tiles.
  const n = 5000, dim = 19, nq = 7, k = 6;
  const base = randoms(n * dim, 1);
  const queries = randoms(nq * dim, 2);
  const ref = naive(base, n, queries, nq, dim, k);
  const res = bruteForceKnn(base, n, queries, nq, dim, k);
  for (let a = 0; a < nq; a++) {
    for (let j = 0; j < k; j++) {
      const r = ref[a]![j]!;
      assert.ok(Math.abs(res.distances[a * k + j]! - r.d) <= 1e-4 * Math.max(1, r.d), `query ${a} rank ${j} distance`);
      const tieNear = ref[a]!.some((o, i) => i !== j && Math.abs(o.d - r.d) < 1e-6 * r.d);
      if (!tieNear) assert.equal(res.indices[a * k + j], r.idx, `query ${a} rank ${j} index`);
    }
  }
});

test("distances are ascending per query", () => {
  const res = bruteForceKnn(randoms(300 * 8, 3), 300, randoms(9 * 8, 4), 9, 8, 300);
  for (let a = 0; a < 9; a++) {
    for (let j = 1; j < 300; j++) assert.ok(res.distances[a * 300 + j]! >= res.distances[a * 300 + j - 1]!, `query ${a} rank ${j}`);
  }
});

test("hand case in 2-D: squared distances and order", () => {
  const base = Float32Array.from([0, 0, 3, 4, 1, 1, -2, 0]);
  const res = bruteForceKnn(base, 4, Float32Array.from([1, 0]), 1, 2, 4);
  // From (1,0): (0,0)→1, (1,1)→1, (-2,0)→9, (3,4)→20; the 1-tie goes to the lower index.
  assert.deepEqual([...res.indices], [0, 2, 3, 1]);
  assert.deepEqual([...res.distances], [1, 1, 9, 20]);
});

test("equal distances keep the lower base index first, across tiles and query blocks", () => {
  const dim = 3, n = 30000; // more rows than one tile holds
  const base = randoms(n * dim, 5);
  const row = Float32Array.from([10, 10, 10]);
  for (const i of [25000, 7, 19000]) base.set(row, i * dim);
  const queries = new Float32Array(5 * dim);
  for (let q = 0; q < 5; q++) queries.set([10, 10, 10.5], q * dim);
  const res = bruteForceKnn(base, n, queries, 5, dim, 3);
  for (let q = 0; q < 5; q++) {
    assert.deepEqual([...res.indices.subarray(q * 3, q * 3 + 3)], [7, 19000, 25000], `query ${q}`);
    assert.ok(Math.abs(res.distances[q * 3]! - 0.25) < 1e-5);
  }
});

test("a query equal to a base row gets distance 0, never negative", () => {
  const base = Float32Array.from([1e3, 1e-3, 7.7, 1e3, 1e-3, 7.7001, 0.1, 0.2, 0.3]);
  const res = bruteForceKnn(base, 3, base.slice(0, 3), 1, 3, 2);
  assert.equal(res.indices[0], 0);
  assert.ok(res.distances[0]! >= 0 && res.distances[0]! < 1e-6);
});

test("k outside 1..nBase and mismatched lengths are rejected", () => {
  const base = new Float32Array(6);
  assert.throws(() => bruteForceKnn(base, 3, new Float32Array(2), 1, 2, 4), LafiteError);
  assert.throws(() => bruteForceKnn(base, 3, new Float32Array(2), 1, 2, 0), LafiteError);
  assert.throws(() => bruteForceKnn(base, 3, new Float32Array(3), 1, 2, 1), LafiteError);
});
