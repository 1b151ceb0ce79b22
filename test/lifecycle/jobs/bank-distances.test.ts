import { test } from "node:test";
import assert from "node:assert/strict";
import { nearestBankDistances } from "../../../src/lifecycle/jobs/coverage-space.js";
import { bruteForceKnn } from "../../../src/model/memory/brute-force-knn.js";
import { createRng } from "../../../src/util/random.js";

test("distances to the bank from the chunked ONNX kNN match the plain brute-force search", async () => {
  const rng = createRng(4);
  const d = 12, nb = 300, n = 2100; // more queries than one chunk (2048)
  const bank = Float32Array.from({ length: nb * d }, () => rng.normal());
  const q = Float32Array.from({ length: n * d }, () => rng.normal() * 1.3);
  const got = await nearestBankDistances(bank, nb, q, n, d, {}, 2);
  const want = bruteForceKnn(bank, nb, q, n, d, 2);
  for (let i = 0; i < n * 2; i++) assert.ok(Math.abs(got[i]! - want.distances[i]!) <= 1e-4 * Math.max(1, want.distances[i]!), `${i}: ${got[i]} vs ${want.distances[i]}`);
  assert.equal((await nearestBankDistances(bank, nb, q, 0, d, {})).length, 0);
});
