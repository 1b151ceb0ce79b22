import { test } from "node:test";
import assert from "node:assert/strict";
import { holdoutIndices, quantile } from "../../src/pipeline/fit.js";

test("holdout picks are evenly spaced, at least one, none for tiny classes", () => {
  assert.deepEqual([...holdoutIndices(20, 0.1)], [5, 15]);
  assert.deepEqual([...holdoutIndices(5, 0.1)], [2]);
  assert.equal(holdoutIndices(3, 0.1).size, 0);
  assert.equal(holdoutIndices(50, 0).size, 0);
});

test("quantile interpolates linearly between order statistics", () => {
  assert.equal(quantile([3, 1, 2, 4], 0), 1);
  assert.equal(quantile([3, 1, 2, 4], 1), 4);
  assert.equal(quantile([3, 1, 2, 4], 0.5), 2.5);
  assert.ok(Math.abs(quantile([0, 10], 0.99) - 9.9) < 1e-12);
});
