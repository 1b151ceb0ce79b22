import { test } from "node:test";
import assert from "node:assert/strict";
import { classHoldoutIndices, diffusionConfigOf, holdoutIndices, splitTraining } from "../../src/pipeline/fit.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { UNET_PRESETS } from "../../src/model/diffusion/config.js";

test("holdout picks are evenly spaced, at least one, none for tiny classes", () => {
  assert.deepEqual([...holdoutIndices(20, 0.1)], [5, 15]);
  assert.deepEqual([...holdoutIndices(5, 0.1)], [2]);
  assert.equal(holdoutIndices(3, 0.1).size, 0);
  assert.equal(holdoutIndices(50, 0).size, 0);
});

test("a class the holdout share leaves under minClassNormals holds out minClassNormals when that is within classHoldoutCap", () => {
  const t = parseModelConfig({}).threshold; // holdout 0.1, perClass, minClassNormals 10, classHoldoutCap 0.2
  // 60 images: 6 by the share, raised to 10 (1/6 of the class), evenly spaced: floor((i + 0.5) · 6).
  assert.deepEqual([...classHoldoutIndices(60, t)], [3, 9, 15, 21, 27, 33, 39, 45, 51, 57]);
  assert.equal(classHoldoutIndices(50, t).size, 10, "10 of 50 is exactly the cap");
  assert.deepEqual(classHoldoutIndices(49, t), holdoutIndices(49, 0.1), "10 of 49 is over the cap: the share's 4");
  assert.deepEqual(classHoldoutIndices(25, t), holdoutIndices(25, 0.1), "a 25-image class keeps its 2");
  assert.deepEqual(classHoldoutIndices(100, t), holdoutIndices(100, 0.1), "the share already gives 10");
  assert.deepEqual(classHoldoutIndices(60, { ...t, perClass: false }), holdoutIndices(60, 0.1), "no per-class thresholds: no reason to");
  assert.deepEqual(classHoldoutIndices(60, { ...t, classHoldoutCap: 0 }), holdoutIndices(60, 0.1), "cap 0: never");
  assert.equal(classHoldoutIndices(60, { ...t, holdout: 0 }).size, 0, "holdout 0 holds out nothing, whatever the cap");
  assert.equal(classHoldoutIndices(3, t).size, 0, "tiny classes hold out nothing");
  const train = Array.from({ length: 60 }, (_, i) => `c/train/good/${i}.png`);
  const split = splitTraining({ train, validation: [] }, t);
  assert.equal(split.by, "raised");
  assert.deepEqual(split.heldOut, [3, 9, 15, 21, 27, 33, 39, 45, 51, 57].map((i) => train[i]));
  assert.equal(split.bank.length, 50);
  assert.equal(splitTraining({ train, validation: [] }, { ...t, classHoldoutCap: 0 }).by, "share");
});


test("diffusion.unet overrides the preset's U-Net key by key; absent keys keep the preset's", () => {
  const plain = diffusionConfigOf(parseModelConfig({}), "cpu", undefined);
  assert.deepEqual(plain.unet, UNET_PRESETS.cpu);
  const wide = diffusionConfigOf(parseModelConfig({ diffusion: { unet: { baseChannels: 96, midBlocks: 2 } } }), "cpu", undefined);
  assert.deepEqual(wide.unet, { ...UNET_PRESETS.cpu, baseChannels: 96, midBlocks: 2 });
  assert.throws(() => parseModelConfig({ diffusion: { unet: { width: 96 } } }), /width/);
});
