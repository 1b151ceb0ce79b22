import { test } from "node:test";
import assert from "node:assert/strict";
import { trainedTaus } from "../../../src/pipeline/tune/trained-taus.js";

test("the τ grid keeps only steps the U-Net was trained on (t ≤ tMax), else tMax alone", () => {
  assert.deepEqual(trainedTaus([10, 20, 50, 100, 200, 400], undefined), [10, 20, 50, 100, 200, 400]);
  assert.deepEqual(trainedTaus([10, 20, 50, 100, 200, 400], 200), [10, 20, 50, 100, 200]);
  assert.deepEqual(trainedTaus([300, 400], 100), [100]);
});
