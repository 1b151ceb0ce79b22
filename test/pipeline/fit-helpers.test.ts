import { test } from "node:test";
import assert from "node:assert/strict";
import { diffusionConfigOf, holdoutIndices } from "../../src/pipeline/fit.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { UNET_PRESETS } from "../../src/model/diffusion/config.js";

test("holdout picks are evenly spaced, at least one, none for tiny classes", () => {
  assert.deepEqual([...holdoutIndices(20, 0.1)], [5, 15]);
  assert.deepEqual([...holdoutIndices(5, 0.1)], [2]);
  assert.equal(holdoutIndices(3, 0.1).size, 0);
  assert.equal(holdoutIndices(50, 0).size, 0);
});


test("diffusion.unet overrides the preset's U-Net key by key; absent keys keep the preset's", () => {
  const plain = diffusionConfigOf(parseModelConfig({}), "cpu", undefined);
  assert.deepEqual(plain.unet, UNET_PRESETS.cpu);
  const wide = diffusionConfigOf(parseModelConfig({ diffusion: { unet: { baseChannels: 96, midBlocks: 2 } } }), "cpu", undefined);
  assert.deepEqual(wide.unet, { ...UNET_PRESETS.cpu, baseChannels: 96, midBlocks: 2 });
  assert.throws(() => parseModelConfig({ diffusion: { unet: { width: 96 } } }), /width/);
});
