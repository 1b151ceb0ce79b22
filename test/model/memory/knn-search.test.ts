import { test } from "node:test";
import assert from "node:assert/strict";
import { OnnxKnn } from "../../../src/model/memory/onnx-knn.js";
import { FaissIndex } from "../../../src/model/memory/faiss-index.js";
import { LafiteError } from "../../../src/util/errors.js";

function randoms(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

/** Independent reference: every distance by a plain double loop, then sort. */
function naive(bank: Float32Array, n: number, q: Float32Array, nq: number, dim: number, k: number) {
  const out: { idx: number; d: number }[][] = [];
  for (let a = 0; a < nq; a++) {
    const row = [];
    for (let b = 0; b < n; b++) {
      let d = 0;
      for (let j = 0; j < dim; j++) d += (q[a * dim + j]! - bank[b * dim + j]!) ** 2;
      row.push({ idx: b, d });
    }
    row.sort((x, y) => x.d - y.d || x.idx - y.idx);
    out.push(row.slice(0, k));
  }
  return out;
}

const n = 300, dim = 24, nq = 50, k = 5;
const bank = randoms(n * dim, 1);
const queries = randoms(nq * dim, 2);
const ref = naive(bank, n, queries, nq, dim, k);

function check(res: { indices: Int32Array; distances: Float32Array }) {
  for (let a = 0; a < nq; a++) {
    for (let j = 0; j < k; j++) {
      assert.ok(Math.abs(res.distances[a * k + j]! - ref[a]![j]!.d) < 1e-4, `query ${a} rank ${j} distance`);
      // Indices must match unless two reference distances are within rounding of each other.
      const tieNear = ref[a]!.some((r, i) => i !== j && Math.abs(r.d - ref[a]![j]!.d) < 1e-5);
      if (!tieNear) assert.equal(res.indices[a * k + j], ref[a]![j]!.idx, `query ${a} rank ${j} index`);
    }
  }
}

test("ONNX MatMul+TopK kNN equals brute force", async () => {
  const knn = await OnnxKnn.create(bank, n, dim, k);
  check(await knn.search(queries, nq));
  await knn.release();
});

test("FAISS flat index equals brute force, and survives a save/load round trip", () => {
  const idx = FaissIndex.build(bank, n, dim, "flat");
  check(idx.search(queries, nq, k));
  const back = FaissIndex.fromBuffer(idx.toBuffer(), dim, "flat");
  assert.equal(back.size, n);
  check(back.search(queries, nq, k));
});

test("FAISS HNSW (approximate) finds the true nearest neighbour for most queries", () => {
  const idx = FaissIndex.build(bank, n, dim, "hnsw");
  const res = idx.search(queries, nq, 1);
  let hits = 0;
  for (let a = 0; a < nq; a++) if (res.indices[a] === ref[a]![0]!.idx) hits++;
  assert.ok(hits >= nq * 0.9, `recall@1 ${hits}/${nq}`);
});

test("bad FAISS arguments are refused before they reach C++", () => {
  const idx = FaissIndex.build(bank, n, dim);
  const invalid = (err: unknown) => err instanceof LafiteError && err.code === "INVALID_INPUT";
  assert.throws(() => idx.search(queries, nq, 0), invalid);
  assert.throws(() => idx.search(queries, nq, n + 1), invalid);
  assert.throws(() => idx.search(queries.subarray(1), nq, 1), invalid);
  assert.throws(() => idx.search(Float32Array.from(queries).fill(NaN, 3, 4), nq, 1), invalid);
  assert.throws(() => FaissIndex.build(bank, n, dim + 1), invalid);
  assert.throws(() => FaissIndex.fromBuffer(Buffer.from("garbage garbage garbage"), dim, "flat"), (e: unknown) => e instanceof LafiteError && e.code === "BAD_BUNDLE");
  assert.throws(() => FaissIndex.fromBuffer(idx.toBuffer(), dim + 1, "flat"), /dimension/);
});
