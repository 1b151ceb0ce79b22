import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { diffusionPreset } from "../../../src/model/diffusion/config.js";
import { createRng } from "../../../src/model/diffusion/prng.js";
import { Reconstructor } from "../../../src/model/diffusion/reconstructor.js";
import { trainDiffusion } from "../../../src/model/diffusion/trainer.js";

const shape = { c: 4, h: 8, w: 8 };

/** Low-entropy "normal" features: smooth stripes with a random phase and amplitude per map. */
function syntheticFeatures(n: number, seed: number): Float32Array[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const a = 1 + 0.2 * rng.normal();
    const phase = rng.next() * 2 * Math.PI;
    const f = new Float32Array(shape.c * shape.h * shape.w);
    for (let c = 0; c < shape.c; c++)
      for (let y = 0; y < shape.h; y++)
        for (let x = 0; x < shape.w; x++) f[(c * shape.h + y) * shape.w + x] = a * Math.sin(phase + (x + y) * 0.7 + c);
    return f;
  });
}

test("a tiny U-Net on a tiny synthetic feature set: the loss falls ≥ 5× within 400 steps", async () => {
  const cfg = diffusionPreset("tiny", { batchSize: 8, epochs: 1000, maxSteps: 400, lr: 3e-3, warmupSteps: 20 });
  const losses: number[] = [];
  const lines: string[] = [];
  const r = await trainDiffusion(syntheticFeatures(16, 1), shape, cfg, { log: (l) => lines.push(l), onStep: (_s, l) => losses.push(l) });
  assert.equal(r.steps, 400);
  assert.equal(r.executionProvider, "cpu");
  assert.ok(lines.some((l) => /execution provider cpu/.test(l)));
  const first = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
  assert.ok(first > 0.5, `initial loss ${first} (a zero-output U-Net scores ≈ 1)`);
  assert.ok(r.finalLoss * 5 <= first, `loss fell from ${first.toFixed(4)} to ${r.finalLoss.toFixed(4)}`);
  // The exported graph reconstructs a normal map better than its corrupted start.
  const rec = await Reconstructor.create(r.unetOnnx);
  const e = syntheticFeatures(1, 99)[0]!;
  const out = await rec.reconstruct({ data: e, ...shape }, 200, 50, 0, 1);
  const err = out.data.reduce((a, v, i) => a + (v - e[i]!) ** 2, 0) / e.length;
  assert.ok(err < 0.2, `reconstruction MSE ${err}`);
  await rec.close();
});

test("interrupt → checkpoint → resume gives the same weights as an uninterrupted run", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lafite-train-"));
  try {
    const cfg = diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 12, checkpointEverySteps: 5, seed: 7 });
    const data = syntheticFeatures(6, 2);
    const quiet = () => {};
    const full = await trainDiffusion(data, shape, cfg, { log: quiet });

    const ctl = new AbortController();
    await assert.rejects(
      trainDiffusion(data, shape, cfg, { log: quiet, checkpointDir: dir, signal: ctl.signal, onStep: (s) => s === 7 && ctl.abort() }),
      /interrupted at step 7\/12/,
    );
    const lines: string[] = [];
    const resumed = await trainDiffusion(data, shape, cfg, { log: (l) => lines.push(l), checkpointDir: dir });
    assert.ok(lines.some((l) => /resuming .* at step 7\/12/.test(l)), lines.join("\n"));
    assert.equal(resumed.steps, 12);
    for (const [name, w] of full.weights) assert.deepEqual(resumed.weights.get(name), w, name);
    assert.equal(resumed.finalLoss, full.finalLoss);

    // A different seed does not pick up this checkpoint.
    const other: string[] = [];
    await trainDiffusion(data, shape, { ...cfg, seed: 8, maxSteps: 1 }, { log: (l) => other.push(l), checkpointDir: dir });
    assert.ok(other.some((l) => /ignoring the checkpoint/.test(l)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
