import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, randomInt } from "../../../src/model/diffusion/prng.js";
import { sampleTrainingStep, trainingTMax } from "../../../src/model/diffusion/t-sampling.js";

test("t is uniform in [1, tMax]: every value hit, none outside, and tMax = T repeats the paper's draws", () => {
  assert.equal(trainingTMax(1000, undefined), 1000);
  assert.equal(trainingTMax(1000, 200), 200);
  assert.throws(() => trainingTMax(1000, 1001), /tMax must be an integer from 1 to T = 1000/);
  assert.throws(() => trainingTMax(1000, 0), RangeError);

  const rng = createRng(3);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 6000; i++) {
    const t = sampleTrainingStep(rng, 5);
    assert.ok(t >= 1 && t <= 5, `t = ${t}`);
    counts[t]++;
  }
  assert.equal(counts[0], 0);
  for (let t = 1; t <= 5; t++) assert.ok(Math.abs(counts[t]! - 1200) < 150, `t = ${t} drawn ${counts[t]} times of 6000`);

  // Unchanged default: the same stream gives the same t's as Eq. 6's uniform [1, T] draw.
  const a = createRng(9, 3, 0);
  const b = createRng(9, 3, 0);
  for (let i = 0; i < 50; i++) assert.equal(sampleTrainingStep(a, 1000), randomInt(b, 1, 1000));
});
