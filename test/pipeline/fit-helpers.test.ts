import { test } from "node:test";
import assert from "node:assert/strict";
import { holdoutIndices } from "../../src/pipeline/fit.js";

test("holdout picks are evenly spaced, at least one, none for tiny classes", () => {
  assert.deepEqual([...holdoutIndices(20, 0.1)], [5, 15]);
  assert.deepEqual([...holdoutIndices(5, 0.1)], [2]);
  assert.equal(holdoutIndices(3, 0.1).size, 0);
  assert.equal(holdoutIndices(50, 0).size, 0);
});

