/**
 * Fine-tuning support of the trainer (used by the retrain job): training can
 * start from given weights — e.g. those read back from an exported
 * denoiser.onnx — and stop early on a budget.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { diffusionPreset } from "../../../src/model/diffusion/config.js";
import { createRng } from "../../../src/model/diffusion/prng.js";
import { readUNetModel } from "../../../src/model/diffusion/unet-model.js";
import { trainDiffusion } from "../../../src/model/diffusion/trainer.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";

const shape = { c: 4, h: 8, w: 8 };
const quiet = () => {};

function stripes(n: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const phase = rng.next() * 2 * Math.PI;
    const f = new Float32Array(shape.c * shape.h * shape.w);
    for (let c = 0; c < shape.c; c++) for (let y = 0; y < shape.h; y++) for (let x = 0; x < shape.w; x++) f[(c * shape.h + y) * shape.w + x] = Math.sin(phase + (x + y) * 0.7 + c);
    return f;
  });
}

test("fine-tuning starts from the exported model's weights: 0 steps returns them, and training continues at the trained loss", async () => {
  const data = stripes(16, 1);
  const cfg = diffusionPreset("tiny", { batchSize: 8, epochs: 1000, maxSteps: 150, lr: 3e-3, warmupSteps: 10 });
  const first: number[] = [];
  const a = await trainDiffusion(data, shape, cfg, { log: quiet, onStep: (_s, l) => first.push(l) });
  const exported = readUNetModel(a.unetOnnx);

  const none = await trainDiffusion(data, shape, { ...cfg, seed: 5 }, { log: quiet, initialWeights: exported.weights, shouldStop: () => true });
  assert.equal(none.steps, 0);
  for (const [name, w] of exported.weights) assert.deepEqual(none.weights.get(name), w, name);

  const tuned: number[] = [];
  const b = await trainDiffusion(data, shape, { ...cfg, seed: 5, maxSteps: 40, lr: 5e-4, lrSchedule: "constant", warmupSteps: 0 }, { log: quiet, initialWeights: exported.weights, onStep: (_s, l) => tuned.push(l) });
  assert.equal(b.steps, 40);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  // From scratch the first steps score ≈ 1 (a zero predictor); continuing, they score like the end of the first run.
  assert.ok(mean(tuned.slice(0, 10)) < 0.6 * mean(first.slice(0, 10)), `fine-tune start ${mean(tuned.slice(0, 10))} vs scratch start ${mean(first.slice(0, 10))}`);
});

test("shouldStop ends training normally at the step it says; a weight of the wrong size is refused by name", async () => {
  const data = stripes(8, 2);
  const cfg = diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 50 });
  const r = await trainDiffusion(data, shape, cfg, { log: quiet, shouldStop: (step) => step >= 7 });
  assert.equal(r.steps, 7);
  const broken = new Map(r.weights);
  const [name] = broken.keys();
  broken.set(name!, new Float32Array(3));
  await assert.rejects(trainDiffusion(data, shape, cfg, { log: quiet, initialWeights: broken }), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && e.message.includes(name!));
});

test("snapshots hand over the model at the steps asked, equal to a run that stops there, and leave the run itself unchanged", async () => {
  const data = stripes(12, 3);
  // Constant rate, no warm-up: the weights after step s do not depend on the run's length.
  const cfg = diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 6, lr: 2e-3, lrSchedule: "constant", warmupSteps: 0, ema: 0.9 });
  const taken: { step: number; onnx: Uint8Array; loss: number }[] = [];
  const withSnapshots = await trainDiffusion(data, shape, cfg, {
    log: quiet,
    snapshots: { atSteps: [2, 5], take: async (step, onnx, loss) => void taken.push({ step, onnx, loss }) },
  });
  assert.deepEqual(taken.map((t) => t.step), [2, 5]);
  assert.ok(taken.every((t) => Number.isFinite(t.loss) && t.loss > 0));
  const plain = await trainDiffusion(data, shape, cfg, { log: quiet });
  assert.deepEqual(withSnapshots.unetOnnx, plain.unetOnnx, "taking snapshots does not change the run");
  for (const t of taken) {
    const short = await trainDiffusion(data, shape, { ...cfg, maxSteps: t.step }, { log: quiet });
    assert.deepEqual(readUNetModel(t.onnx).weights, readUNetModel(short.unetOnnx).weights, `snapshot at step ${t.step} (the weight EMA) is the ${t.step}-step model`);
  }
});
