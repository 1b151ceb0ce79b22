import { test } from "node:test";
import assert from "node:assert/strict";
import { FeatureStatsAccumulator, standardizeInPlace, toRows } from "../../src/model/feature-stats.js";

test("channel mean/std over several maps, by hand", () => {
  const acc = new FeatureStatsAccumulator(2);
  // channel 0 values: 1,3 then 5,7 → mean 4, var ((9+1+1+9)/4)=5; channel 1 constant 2 → std floored.
  acc.add({ data: Float32Array.of(1, 3, 2, 2), c: 2, h: 1, w: 2 });
  acc.add({ data: Float32Array.of(5, 7, 2, 2), c: 2, h: 1, w: 2 });
  const s = acc.finish();
  assert.equal(s.mean[0], 4);
  assert.ok(Math.abs(s.std[0]! - Math.sqrt(5)) < 1e-6);
  assert.equal(s.mean[1], 2);
  assert.ok(Math.abs(s.std[1]! - 1e-6) < 1e-9);
  const x = { data: Float32Array.of(4, 4 + Math.sqrt(5), 2, 3), c: 2, h: 1, w: 2 };
  standardizeInPlace(x, s);
  assert.ok(Math.abs(x.data[0]!) < 1e-6 && Math.abs(x.data[1]! - 1) < 1e-6);
});

test("toRows transposes CHW to position-major rows", () => {
  const rows = toRows({ data: Float32Array.of(1, 2, 3, 10, 20, 30), c: 2, h: 1, w: 3 });
  assert.deepEqual(Array.from(rows), [1, 10, 2, 20, 3, 30]);
});
