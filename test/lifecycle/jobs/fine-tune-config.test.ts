/**
 * The fine-tuning schedule shared by the retrain job and `lafite train`:
 * the bundle config's t range and weight EMA carry over unless overridden,
 * the U-Net's own architecture is kept, and the learning rate is 0.2× the
 * preset's, constant.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BundleManifest } from "../../../src/model/bundle.js";
import { UNET_PRESETS } from "../../../src/model/diffusion/config.js";
import type { UNetModel } from "../../../src/model/diffusion/unet-model.js";
import { parseModelConfig } from "../../../src/model/model-config.js";
import { fineTuneConfig } from "../../../src/lifecycle/jobs/fine-tune-unet.js";
import { totalSteps } from "../../../src/model/diffusion/training-plan.js";

function manifest(diffusion: Record<string, unknown>): BundleManifest {
  // Only config and version are read by fineTuneConfig.
  return { version: "v1", config: parseModelConfig({ diffusion }) } as unknown as BundleManifest;
}
const unet = { cfg: UNET_PRESETS.tiny, shape: { c: 4, h: 8, w: 8 }, weights: new Map() } as UNetModel;

test("fine-tuning follows the bundle's tMax and ema, flags override them, and absent both the paper's uniform t and no EMA remain", () => {
  const plain = fineTuneConfig(manifest({ preset: "cpu" }), unet, { steps: 100 });
  assert.equal(plain.tMax, undefined);
  assert.equal(plain.ema, undefined);
  assert.equal(plain.lr, 1e-3 * 0.2);
  assert.equal(plain.lrSchedule, "constant");
  assert.equal(plain.warmupSteps, 10);
  assert.equal(plain.maxSteps, 100);
  assert.deepEqual(plain.unet, UNET_PRESETS.tiny, "the model's own architecture, not the preset's");

  const fromBundle = fineTuneConfig(manifest({ preset: "cpu", tMax: 200, ema: 0.999 }), unet, { steps: 100 });
  assert.equal(fromBundle.tMax, 200);
  assert.equal(fromBundle.ema, 0.999);
  const overridden = fineTuneConfig(manifest({ preset: "cpu", tMax: 200, ema: 0.999 }), unet, { steps: 100, tMax: 50, ema: 0.99, lr: 1e-4 });
  assert.equal(overridden.tMax, 50);
  assert.equal(overridden.ema, 0.99);
  assert.equal(overridden.lr, 1e-4);
});

test("the fit's training budget (the cpu preset's 4,000 samples, or diffusion.samples) does not cap fine-tuning: the caller's steps do", () => {
  for (const diffusion of [{ preset: "cpu" }, { preset: "cpu", samples: 800 }]) {
    const cfg = fineTuneConfig(manifest(diffusion), unet, { steps: 2000 });
    assert.equal(totalSteps(cfg, 1463), 2000, JSON.stringify(diffusion));
    // A time budget alone: the steps never end the run.
    assert.equal(totalSteps(fineTuneConfig(manifest(diffusion), unet, { steps: Number.MAX_SAFE_INTEGER }), 1463), Number.MAX_SAFE_INTEGER);
  }
});
