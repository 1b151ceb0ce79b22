import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { DataType } from "../../../src/onnx/graph-builder.js";
import { UNET_PRESETS } from "../../../src/model/diffusion/config.js";
import { exportUNet } from "../../../src/model/diffusion/export.js";
import { initParams } from "../../../src/model/diffusion/init.js";
import { createRng, fillNormal } from "../../../src/model/diffusion/prng.js";
import { timestepEmbedding } from "../../../src/model/diffusion/time-embedding.js";
import { buildTrainingForward } from "../../../src/model/diffusion/training-graph.js";
import { unetParamSpecs } from "../../../src/model/diffusion/unet.js";
import { readUNetModel } from "../../../src/model/diffusion/unet-model.js";

test("the exported inference U-Net computes the training graph's ε on the same weights", async () => {
  const cfg = UNET_PRESETS.tiny;
  const shape = { c: 6, h: 7, w: 7 }; // odd size: exercises the stride-2 round-up and the crop after upsampling
  const B = 3;
  const { params } = unetParamSpecs(cfg, shape);
  const weights = initParams(params, 7);
  // Zero-initialized convs would hide most of the network; give every weight a value.
  const rng = createRng(11);
  for (const w of weights.values()) for (let i = 0; i < w.length; i++) w[i] = w[i]! + 0.1 * rng.normal();

  const fwd = buildTrainingForward(cfg, shape, B);
  fwd.graph.output(fwd.eps, DataType.FLOAT, [B, shape.c, shape.h, shape.w], "eps_out");
  fwd.graph.output(fwd.loss, DataType.FLOAT, [], "loss");
  const train = await ort.InferenceSession.create(fwd.graph.toBytes());
  const infer = await ort.InferenceSession.create(exportUNet(cfg, shape, weights));

  const n = B * shape.c * shape.h * shape.w;
  const x0 = fillNormal(rng, new Float32Array(n));
  const noise = fillNormal(rng, new Float32Array(n));
  const ts = [1, 400, 1000];
  const sa = Float32Array.from(ts, (t) => Math.cos((t / 1000) * 1.5));
  const s1 = Float32Array.from(sa, (a) => Math.sqrt(1 - a * a));
  const temb = timestepEmbedding(ts, cfg.timeEmbedDim);
  const dims = [B, shape.c, shape.h, shape.w];
  const feeds: Record<string, ort.Tensor> = {
    x0: new ort.Tensor("float32", x0, dims),
    noise: new ort.Tensor("float32", noise, dims),
    sqrt_ab: new ort.Tensor("float32", sa, [B, 1, 1, 1]),
    sqrt_1mab: new ort.Tensor("float32", s1, [B, 1, 1, 1]),
    temb: new ort.Tensor("float32", temb, [B, cfg.timeEmbedDim]),
  };
  for (const p of fwd.params) feeds[p.name] = new ort.Tensor("float32", weights.get(p.name)!, p.shape);
  const a = await train.run(feeds);
  const xt = new Float32Array(n);
  const per = n / B;
  for (let i = 0; i < n; i++) xt[i] = sa[Math.floor(i / per)]! * x0[i]! + s1[Math.floor(i / per)]! * noise[i]!;
  const b = await infer.run({ x: new ort.Tensor("float32", xt, dims), temb: new ort.Tensor("float32", temb, [B, cfg.timeEmbedDim]) });
  const ea = a.eps_out!.data as Float32Array;
  const eb = b.eps!.data as Float32Array;
  let maxDiff = 0;
  let maxAbs = 0;
  let mse = 0;
  for (let i = 0; i < n; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ea[i]! - eb[i]!));
    maxAbs = Math.max(maxAbs, Math.abs(eb[i]!));
    mse += (eb[i]! - noise[i]!) ** 2;
  }
  assert.ok(maxAbs > 0.1, "the network output is not trivially zero");
  // Same ops on the same data; only x_t's rounding differs (host vs graph FMA order).
  assert.ok(maxDiff <= 1e-4 * maxAbs, `max |Δε| = ${maxDiff} vs max |ε| = ${maxAbs}`);
  const loss = (a.loss!.data as Float32Array)[0]!;
  assert.ok(Math.abs(loss - mse / n) <= 1e-4 * (mse / n), `loss ${loss} vs ${mse / n}`);
});

test("an exported model reads back with its config, shape and weights", () => {
  const cfg = UNET_PRESETS.tiny;
  const shape = { c: 5, h: 6, w: 6 };
  const weights = initParams(unetParamSpecs(cfg, shape).params, 3);
  const back = readUNetModel(exportUNet(cfg, shape, weights));
  assert.deepEqual(back.cfg, cfg);
  assert.deepEqual(back.shape, shape);
  assert.equal(back.weights.size, weights.size);
  for (const [k, v] of weights) assert.deepEqual(back.weights.get(k), v);
});
