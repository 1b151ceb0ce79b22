import { test } from "node:test";
import assert from "node:assert/strict";
import { averageRanks, spearman } from "../../src/measures/rank-correlation.js";

test("average ranks give ties the mean of their ranks", () => {
  assert.deepEqual(averageRanks([10, 30, 20]), [1, 3, 2]);
  assert.deepEqual(averageRanks([5, 1, 5, 7]), [2.5, 1, 2.5, 4]);
});

test("Spearman's rho: hand-computed values", () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // ranks a: 1 2 3 4 5, b: 2 1 4 3 5 → d² = 1+1+1+1+0 = 4 → 1 − 6·4/(5·24) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])! - 0.8) < 1e-12);
  // monotone but non-linear: still 1
  assert.equal(spearman([1, 2, 3], [1, 8, 27]), 1);
  // with ties: a ranks 1.5 1.5 3 4, b ranks 1 2 3 4 → Pearson of ranks
  const r = spearman([7, 7, 8, 9], [1, 2, 3, 4])!;
  assert.ok(Math.abs(r - 0.9486832980505138) < 1e-12, `${r}`);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  assert.equal(spearman([1, 2], [1, 2]), null);
  assert.throws(() => spearman([1, 2, 3], [1, 2]));
});
