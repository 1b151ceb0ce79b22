/**
 * The trainer with a weight EMA and a narrowed t range: the EMA shadow is
 * what gets exported and it survives interrupt → resume exactly; tMax = T
 * is the unchanged default; a spent time budget ends training normally.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffusionPreset } from "../../../src/model/diffusion/config.js";
import { createRng } from "../../../src/model/diffusion/prng.js";
import { readUNetModel } from "../../../src/model/diffusion/unet-model.js";
import { trainDiffusion } from "../../../src/model/diffusion/trainer.js";

const shape = { c: 4, h: 8, w: 8 };
const quiet = () => {};

function stripes(n: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const phase = rng.next() * 2 * Math.PI;
    const f = new Float32Array(shape.c * shape.h * shape.w);
    for (let i = 0; i < f.length; i++) f[i] = Math.sin(phase + i * 0.3);
    return f;
  });
}

test("weight EMA: exported, different from the last weights, and resumed exactly from a checkpoint; tMax = T changes nothing", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lafite-ema-"));
  try {
    const data = stripes(6, 4);
    const cfg = diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 10, checkpointEverySteps: 4, seed: 3, tMax: 100, ema: 0.9 });
    const full = await trainDiffusion(data, shape, cfg, { log: quiet });
    const plain = await trainDiffusion(data, shape, { ...cfg, ema: undefined }, { log: quiet });
    const exported = readUNetModel(full.unetOnnx).weights;
    const [name] = exported.keys();
    assert.deepEqual(exported.get(name!), full.weights.get(name!), "the exported graph holds the EMA weights");
    assert.notDeepEqual(full.weights.get(name!), plain.weights.get(name!), "the EMA differs from the last step's weights");
    assert.equal(full.finalLoss, plain.finalLoss, "the EMA does not change the training trajectory");

    const ctl = new AbortController();
    await assert.rejects(trainDiffusion(data, shape, cfg, { log: quiet, checkpointDir: dir, signal: ctl.signal, onStep: (s) => s === 6 && ctl.abort() }), /interrupted at step 6\/10/);
    const resumed = await trainDiffusion(data, shape, cfg, { log: quiet, checkpointDir: dir });
    for (const [k, w] of full.weights) assert.deepEqual(resumed.weights.get(k), w, k);
    assert.ok(resumed.elapsedSeconds >= 0 && resumed.stoppedBy === "steps");

    const a = await trainDiffusion(data, shape, { ...cfg, ema: undefined, tMax: 1000, maxSteps: 3 }, { log: quiet });
    const b = await trainDiffusion(data, shape, { ...cfg, ema: undefined, tMax: undefined, maxSteps: 3 }, { log: quiet });
    for (const [k, w] of a.weights) assert.deepEqual(b.weights.get(k), w, k);
    const c = await trainDiffusion(data, shape, { ...cfg, ema: undefined, tMax: 20, maxSteps: 3 }, { log: quiet });
    assert.notDeepEqual(c.weights.get(name!), a.weights.get(name!), "a narrower t range trains differently");
    await assert.rejects(trainDiffusion(data, shape, { ...cfg, tMax: 1001 }, { log: quiet }), /tMax must be an integer from 1 to T = 1000/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a spent time budget ends training normally and says so", async () => {
  const r = await trainDiffusion(stripes(4, 5), shape, diffusionPreset("tiny", { batchSize: 4, maxSteps: 5 }), { log: quiet, timeBudgetSeconds: 0 });
  assert.equal(r.steps, 0);
  assert.equal(r.stoppedBy, "time budget");
});
