import { test } from "node:test";
import assert from "node:assert/strict";
import { diffusionPreset } from "../../../src/model/diffusion/config.js";
import { batchIndices, capTrainingSet, learningRate, totalSteps } from "../../../src/model/diffusion/training-plan.js";

test("learning rate: linear warmup, then cosine to 0 or constant", () => {
  const cfg = diffusionPreset("tiny", { lr: 1, warmupSteps: 4, lrSchedule: "cosine" });
  assert.deepEqual([0, 1, 2, 3].map((s) => learningRate(cfg, s, 104)), [0.25, 0.5, 0.75, 1]);
  assert.equal(learningRate(cfg, 4, 104), 1);
  assert.ok(Math.abs(learningRate(cfg, 54, 104) - 0.5) < 1e-12); // half way through the cosine
  assert.ok(Math.abs(learningRate(cfg, 104, 104)) < 1e-12);
  const flat = diffusionPreset("tiny", { lr: 0.1, warmupSteps: 0, lrSchedule: "constant" });
  assert.equal(learningRate(flat, 77, 100), 0.1);
});

test("steps come from epochs, capped by maxSteps", () => {
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3 }), 20), 9);
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3, maxSteps: 5 }), 20), 5);
});

test("a samples budget caps the steps at ⌈samples / batch⌉, whichever of epochs, maxSteps and samples ends first", () => {
  // 3 epochs of 20 maps at batch 8 = 9 steps; 50 samples = ⌈6.25⌉ = 7 steps.
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3, maxSamples: 50 }), 20), 7);
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3, maxSamples: 5000 }), 20), 9);
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3, maxSamples: 50, maxSteps: 4 }), 20), 4);
  assert.equal(totalSteps(diffusionPreset("tiny", { batchSize: 8, epochs: 3, maxSamples: 1 }), 20), 1);
  // The cpu preset: 20 epochs of 1,463 maps would be 3,660 steps; its 4,000-sample budget makes 500.
  assert.equal(totalSteps(diffusionPreset("cpu"), 1463), 500);
  assert.equal(totalSteps(diffusionPreset("cpu"), 50), 140);
});

test("each epoch visits every map once; batches depend only on (seed, step)", () => {
  const n = 10;
  const B = 4; // 3 batches per epoch, the last wraps around
  const seen = new Set<number>();
  for (let s = 0; s < 3; s++) for (const i of batchIndices(5, s, n, B)) seen.add(i);
  assert.equal(seen.size, n);
  assert.deepEqual(batchIndices(5, 4, n, B), batchIndices(5, 4, n, B));
  assert.notDeepEqual([0, 1, 2].flatMap((s) => batchIndices(5, s, n, B)), [3, 4, 5].flatMap((s) => batchIndices(5, s, n, B)));
});

test("the memory cap keeps a seeded subset in order and says so", () => {
  const maps = Array.from({ length: 10 }, (_, i) => new Float32Array(1024 * 64).fill(i)); // 256 KiB each
  const lines: string[] = [];
  const cfg = diffusionPreset("tiny", { maxDataMB: 1 });
  const kept = capTrainingSet(maps, cfg, (l) => lines.push(l));
  assert.equal(kept.length, 4);
  const ids = kept.map((m) => m[0]!);
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
  assert.deepEqual(capTrainingSet(maps, cfg, () => {}).map((m) => m[0]), ids);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /exceed the 1 MB cap; training on a random subset of 4/);
  assert.equal(capTrainingSet(maps, diffusionPreset("tiny", { maxDataMB: 100 }), (l) => lines.push(l)).length, 10);
  assert.equal(lines.length, 1);
});
