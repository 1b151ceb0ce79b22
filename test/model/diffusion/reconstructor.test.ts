import { test } from "node:test";
import assert from "node:assert/strict";
import { UNET_PRESETS } from "../../../src/model/diffusion/config.js";
import { exportUNet } from "../../../src/model/diffusion/export.js";
import { initParams } from "../../../src/model/diffusion/init.js";
import { createRng, fillNormal } from "../../../src/model/diffusion/prng.js";
import { corruptionNoise, Reconstructor } from "../../../src/model/diffusion/reconstructor.js";
import { unetParamSpecs } from "../../../src/model/diffusion/unet.js";
import type { FeatureMap } from "../../../src/model/types.js";

const shape = { c: 6, h: 8, w: 8 };

function model(): Uint8Array {
  const cfg = UNET_PRESETS.tiny;
  const weights = initParams(unetParamSpecs(cfg, shape).params, 5);
  const rng = createRng(9);
  for (const w of weights.values()) for (let i = 0; i < w.length; i++) w[i] = w[i]! + 0.05 * rng.normal();
  return exportUNet(cfg, shape, weights);
}

function frame(seed: number): FeatureMap {
  return { data: fillNormal(createRng(seed), new Float32Array(shape.c * shape.h * shape.w)), ...shape };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("a frame reconstructs identically for the same seed and differently for another", async () => {
  const r = await Reconstructor.create(model(), { T: 1000 });
  const e = frame(1);
  for (const eta of [0, 0.5]) {
    const a = await r.reconstruct(e, 300, 100, eta, 42);
    const b = await r.reconstruct(e, 300, 100, eta, 42);
    const c = await r.reconstruct(e, 300, 100, eta, 43);
    assert.deepEqual(a.data, b.data, `η = ${eta}: same seed, same result`);
    assert.ok(maxDiff(a.data, c.data) > 1e-3, `η = ${eta}: another seed changes the noise`);
    assert.deepEqual([a.c, a.h, a.w], [shape.c, shape.h, shape.w]);
    assert.ok(a.data.every(Number.isFinite));
  }
  await r.close();
});

test("batching frames does not change each frame's reconstruction; the unrolled graph matches the loop", async () => {
  const bytes = model();
  const loop = await Reconstructor.create(bytes, { runner: "loop" });
  const unrolled = await Reconstructor.create(bytes, { runner: "unrolled" });
  const e1 = frame(1);
  const e2 = frame(2);
  const [b1, b2] = await loop.reconstructMany([e1, e2], 250, 50, 0, [7, 8]);
  const s1 = await loop.reconstruct(e1, 250, 50, 0, 7);
  const s2 = await loop.reconstruct(e2, 250, 50, 0, 8);
  assert.ok(maxDiff(b1!.data, s1.data) < 1e-4);
  assert.ok(maxDiff(b2!.data, s2.data) < 1e-4);
  const u1 = await unrolled.reconstruct(e1, 250, 50, 0, 7);
  assert.ok(maxDiff(u1.data, s1.data) < 1e-4, `unrolled vs loop: ${maxDiff(u1.data, s1.data)}`);
  // A new (τ, Δt) replaces the cached unrolled graph; concurrent runs on both keys still complete.
  const [u2, u1again] = await Promise.all([unrolled.reconstruct(e2, 120, 40, 0, 8), unrolled.reconstruct(e1, 250, 50, 0, 7)]);
  const l2 = await loop.reconstruct(e2, 120, 40, 0, 8);
  assert.ok(maxDiff(u2!.data, l2.data) < 1e-4);
  assert.ok(maxDiff(u1again!.data, s1.data) < 1e-4);
  await assert.rejects(loop.reconstruct({ ...e1, c: 5 }, 250, 50, 0, 7), /expects 6×8×8/);
  await assert.rejects(loop.reconstruct(e1, 1001, 50, 0, 7), /exceeds T/);
  await loop.close();
  await unrolled.close();
});

test("a noise source gives the frame's own corruption noise at η = 0, in both runners; η > 0 draws its stream itself", async () => {
  const bytes = model();
  const e = frame(3);
  const calls: number[] = [];
  const kept = (seed: number, size: number) => (calls.push(seed), corruptionNoise(seed, size));
  const zeros = (_seed: number, size: number) => new Float32Array(size);
  for (const runner of ["loop", "unrolled"] as const) {
    const r = await Reconstructor.create(bytes, { runner });
    const own = await r.reconstruct(e, 200, 50, 0, 11);
    assert.deepEqual((await r.reconstruct(e, 200, 50, 0, 11, kept)).data, own.data, runner);
    // The source is what the reconstruction uses: no noise at all gives another result.
    assert.ok(maxDiff((await r.reconstruct(e, 200, 50, 0, 11, zeros)).data, own.data) > 1e-3, runner);
    await r.close();
  }
  assert.deepEqual(calls, [11, 11]);
  const loop = await Reconstructor.create(bytes, { runner: "loop" });
  assert.deepEqual((await loop.reconstruct(e, 200, 50, 0.5, 11, zeros)).data, (await loop.reconstruct(e, 200, 50, 0.5, 11)).data);
  await loop.close();
});
