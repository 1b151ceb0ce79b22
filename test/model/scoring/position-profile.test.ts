import { test } from "node:test";
import assert from "node:assert/strict";
import { ProfileSums, positionProfile, standardizeMap } from "../../../src/model/scoring/position-profile.js";

const f32 = (...v: number[]) => Float32Array.from(v);

test("a profile is each position's normal mean and its spread, floored at the mean spread over the map (by hand)", () => {
  // Three normal maps of 3 positions. Position 0: 1, 2, 3 (mean 2, sd 1); position 1: 5, 5, 5 (sd 0); position 2: 0, 4, 8 (mean 4, sd 4).
  const p = positionProfile([f32(1, 5, 0), f32(2, 5, 4), f32(3, 5, 8)]);
  assert.deepEqual(Array.from(p.mean), [2, 5, 4]);
  // Mean sd over the map: (1 + 0 + 4) / 3 = 5/3; positions 0 and 1 take it, position 2 keeps its own 4.
  assert.ok(Math.abs(p.scale[0]! - 5 / 3) < 1e-6);
  assert.ok(Math.abs(p.scale[1]! - 5 / 3) < 1e-6);
  assert.equal(p.scale[2], 4);
  // A map standardized: (x − μ) / scale. 3 at position 0 is 0.6 units, 9 at position 1 is 2.4, 12 at position 2 is 2.
  const z = standardizeMap(f32(3, 9, 12), p);
  assert.ok(Math.abs(z[0]! - 0.6) < 1e-6 && Math.abs(z[1]! - 2.4) < 1e-6 && Math.abs(z[2]! - 2) < 1e-6);
});

test("a normal left out: the profile of the others, as built from them alone (brute force)", () => {
  const maps = Array.from({ length: 7 }, (_, k) => Float32Array.from({ length: 16 }, (_, i) => Math.sin(k * 1.7 + i * 0.9) * (1 + (i % 3)) + k * 0.1));
  const sums = new ProfileSums(16);
  for (const m of maps) sums.add(m);
  assert.equal(sums.count, 7);
  for (let k = 0; k < maps.length; k++) {
    const fast = sums.profileWithout(maps[k]!);
    const slow = positionProfile(maps.filter((_, j) => j !== k));
    for (let i = 0; i < 16; i++) {
      assert.ok(Math.abs(fast.mean[i]! - slow.mean[i]!) < 1e-5, `mean at ${i} without ${k}`);
      assert.ok(Math.abs(fast.scale[i]! - slow.scale[i]!) < 1e-5, `scale at ${i} without ${k}`);
    }
  }
  // All of them, as positionProfile gives.
  assert.deepEqual(sums.profile(), positionProfile(maps));
});

test("a profile refuses what it cannot standardize by: too few maps, mismatched sizes, non-finite scores, normals that never vary", () => {
  assert.throws(() => positionProfile([]), /needs normal maps/);
  assert.throws(() => positionProfile([f32(1, 2)]), /at least 2 normal maps \(got 1\)/);
  const sums = new ProfileSums(2);
  sums.add(f32(1, 2));
  assert.throws(() => sums.profileWithout(f32(1, 2)), /at least 2 normal maps \(got 0\)/);
  assert.throws(() => sums.add(f32(1, 2, 3)), /3 positions, the profile 2/);
  assert.throws(() => sums.add(f32(1, Number.NaN)), /not finite/);
  assert.equal(sums.count, 1, "a refused map is not counted");
  assert.throws(() => positionProfile([f32(1, 2), f32(1, 2)]), /do not vary anywhere/);
  assert.throws(() => standardizeMap(f32(1), positionProfile([f32(1, 2), f32(2, 2)])), /1 positions, the profile 2/);
  assert.throws(() => new ProfileSums(0), /positive integer/);
});
