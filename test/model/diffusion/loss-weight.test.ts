/**
 * Min-SNR-γ weighting: the weights against hand-computed values, the
 * weighted training graph's loss against the per-sample errors of the plain
 * graph, and a short weighted run that trains.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { DataType } from "../../../src/onnx/graph-builder.js";
import { diffusionPreset, UNET_PRESETS } from "../../../src/model/diffusion/config.js";
import { initParams } from "../../../src/model/diffusion/init.js";
import { minSnrWeights } from "../../../src/model/diffusion/loss-weight.js";
import { createRng, fillNormal } from "../../../src/model/diffusion/prng.js";
import type { NoiseSchedule } from "../../../src/model/diffusion/schedule.js";
import { timestepEmbedding } from "../../../src/model/diffusion/time-embedding.js";
import { trainDiffusion } from "../../../src/model/diffusion/trainer.js";
import { buildTrainingForward } from "../../../src/model/diffusion/training-graph.js";
import { unetParamSpecs } from "../../../src/model/diffusion/unet.js";

// ᾱ = 0.99, 0.9, 0.5, 0.1: SNR = 99, 9, 1, 1/9.
const schedule: NoiseSchedule = { T: 4, beta: new Float64Array(5), alphaBar: Float64Array.of(1, 0.99, 0.9, 0.5, 0.1) };

test("min-SNR weights: min(SNR, γ)/SNR, divided by their mean over [1, tMax]", () => {
  // γ = 5: raw 5/99, 5/9, 1, 1; mean over 4 = 43/66.
  const all = minSnrWeights(schedule, 4, 5);
  [0, 10 / 129, 110 / 129, 66 / 43, 66 / 43].forEach((w, t) => assert.ok(Math.abs(all[t]! - w) < 1e-12, `t=${t}: ${all[t]} vs ${w}`));
  // tMax = 2: mean of 5/99 and 5/9 = 10/33; steps above tMax keep the same scale.
  const low = minSnrWeights(schedule, 2, 5);
  [0, 1 / 6, 11 / 6, 3.3, 3.3].forEach((w, t) => assert.ok(Math.abs(low[t]! - w) < 1e-12, `t=${t}: ${low[t]} vs ${w}`));
  assert.throws(() => minSnrWeights(schedule, 5, 5), /tMax must be an integer from 1 to 4/);
  assert.throws(() => minSnrWeights(schedule, 4, 0), /γ must be positive/);
});

test("the weighted graph's loss is the mean of each sample's squared ε error times its weight", async () => {
  const cfg = UNET_PRESETS.tiny;
  const shape = { c: 4, h: 6, w: 6 };
  const B = 3;
  const weights = initParams(unetParamSpecs(cfg, shape).params, 5);
  const rng = createRng(9);
  for (const w of weights.values()) for (let i = 0; i < w.length; i++) w[i] = w[i]! + 0.1 * rng.normal();
  const plain = buildTrainingForward(cfg, shape, B);
  plain.graph.output(plain.eps, DataType.FLOAT, [B, shape.c, shape.h, shape.w], "eps_out");
  plain.graph.output(plain.loss, DataType.FLOAT, [], "loss");
  const weighted = buildTrainingForward(cfg, shape, B, true);
  weighted.graph.output(weighted.loss, DataType.FLOAT, [], "loss");
  const n = B * shape.c * shape.h * shape.w;
  const noise = fillNormal(rng, new Float32Array(n));
  const ts = [3, 60, 700];
  const sa = Float32Array.from(ts, (t) => Math.cos((t / 1000) * 1.5));
  const feeds: Record<string, ort.Tensor> = {
    x0: new ort.Tensor("float32", fillNormal(rng, new Float32Array(n)), [B, shape.c, shape.h, shape.w]),
    noise: new ort.Tensor("float32", noise, [B, shape.c, shape.h, shape.w]),
    sqrt_ab: new ort.Tensor("float32", sa, [B, 1, 1, 1]),
    sqrt_1mab: new ort.Tensor("float32", Float32Array.from(sa, (a) => Math.sqrt(1 - a * a)), [B, 1, 1, 1]),
    temb: new ort.Tensor("float32", timestepEmbedding(ts, cfg.timeEmbedDim), [B, cfg.timeEmbedDim]),
  };
  for (const p of plain.params) feeds[p.name] = new ort.Tensor("float32", weights.get(p.name)!, p.shape);
  const a = await (await ort.InferenceSession.create(plain.graph.toBytes())).run(feeds);
  const eps = a.eps_out!.data as Float32Array;
  const w = Float32Array.of(0.5, 2, 0);
  const per = n / B;
  let expected = 0;
  for (let i = 0; i < n; i++) expected += w[Math.floor(i / per)]! * (eps[i]! - noise[i]!) ** 2;
  expected /= n;
  const b = await (await ort.InferenceSession.create(weighted.graph.toBytes())).run({ ...feeds, loss_w: new ort.Tensor("float32", w, [B, 1, 1, 1]) });
  const got = (b.loss!.data as Float32Array)[0]!;
  assert.ok(Math.abs(got - expected) < 1e-5 * Math.max(1, expected), `${got} vs ${expected}`);
  assert.notEqual(got.toFixed(6), ((a.loss!.data as Float32Array)[0]!).toFixed(6), "the weights change the loss");
});

test("a min-SNR run trains: finite loss, and weights unlike the plain run's", async () => {
  const shape = { c: 4, h: 8, w: 8 };
  const rng = createRng(4);
  const data = Array.from({ length: 8 }, () => fillNormal(rng, new Float32Array(shape.c * shape.h * shape.w)));
  const cfg = diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 6, tMax: 200 });
  const quiet = () => {};
  const lines: string[] = [];
  const weighted = await trainDiffusion(data, shape, { ...cfg, minSnr: 5 }, { log: (l) => lines.push(l) });
  const plain = await trainDiffusion(data, shape, cfg, { log: quiet });
  assert.ok(Number.isFinite(weighted.finalLoss) && weighted.finalLoss > 0);
  assert.notDeepEqual(weighted.unetOnnx, plain.unetOnnx);
  assert.ok(lines.some((l) => /min-SNR γ 5/.test(l)), lines.join("\n"));
});
