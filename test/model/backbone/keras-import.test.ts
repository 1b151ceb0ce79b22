/**
 * The converted backbones against an independent reference: TensorFlow.js
 * (CPU backend) running the very same Keras layers model and weights.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { buildStageOutputsOnnx, buildBackboneOnnx, listStages, ensureBackbone } from "../../../src/model/backbone/index.js";
import { readKerasModel, type BuiltinArch } from "../../../src/model/backbone/nsfwjs-package.js";
import { samePadding } from "../../../src/model/backbone/keras-to-onnx.js";
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A deterministic natural-looking RGB image (gradients, discs, noise), HWC 0–255. */
function testImage(size: number): Float32Array {
  const img = new Float32Array(size * size * 3);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const d1 = Math.hypot(x - size * 0.3, y - size * 0.4) < size * 0.15 ? 80 : 0;
      const d2 = Math.hypot(x - size * 0.7, y - size * 0.65) < size * 0.2 ? -60 : 0;
      const o = (y * size + x) * 3;
      img[o] = Math.min(255, Math.max(0, (x / size) * 180 + d1 + 30 * rnd()));
      img[o + 1] = Math.min(255, Math.max(0, (y / size) * 160 + d2 + 30 * rnd() + 40));
      img[o + 2] = Math.min(255, Math.max(0, 120 + 60 * Math.sin(x / 9) + d1 - d2 + 30 * rnd()));
    }
  return img;
}

async function compareWithTfjs(arch: BuiltinArch, stages: string[], size: number): Promise<number[]> {
  await tf.setBackend("cpu");
  const km = readKerasModel(arch);
  const weightData = km.weightBytes.slice().buffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: km.topology as tf.io.ModelJSON["modelTopology"], weightSpecs: km.weightSpecs as tf.io.WeightsManifestEntry[], weightData }));
  const sub = tf.model({ inputs: model.inputs, outputs: stages.map((s) => model.getLayer(s).output as tf.SymbolicTensor) });
  const hwc = testImage(size);
  // Keras preprocessing for these models: x / 127.5 − 1.
  const input = tf.tensor4d(hwc, [1, size, size, 3]).div(127.5).sub(1);
  const refs = sub.predict(input) as tf.Tensor | tf.Tensor[];
  const refList = Array.isArray(refs) ? refs : [refs];

  const session = await ort.InferenceSession.create(buildStageOutputsOnnx(arch, stages, size));
  const chw = new Float32Array(3 * size * size);
  for (let i = 0; i < size * size; i++) for (let ch = 0; ch < 3; ch++) chw[ch * size * size + i] = hwc[i * 3 + ch]!;
  const out = await session.run({ image: new ort.Tensor("float32", chw, [1, 3, size, size]) });
  const errors: number[] = [];
  stages.forEach((stage, k) => {
    const ref = refList[k]!;
    const [, h, w, c] = ref.shape as number[];
    const refData = ref.dataSync();
    const got = out[stage]!;
    assert.deepEqual(got.dims, [1, c, h, w], `${stage} shape`);
    const data = got.data as Float32Array;
    let maxErr = 0, lo = Infinity, hi = -Infinity;
    for (let y = 0; y < h!; y++)
      for (let x = 0; x < w!; x++)
        for (let ch = 0; ch < c!; ch++) {
          const r = refData[(y * w! + x) * c! + ch]!;
          lo = Math.min(lo, r); hi = Math.max(hi, r);
          maxErr = Math.max(maxErr, Math.abs(r - data[(ch * h! + y) * w! + x]!));
        }
    errors.push(maxErr / (hi - lo));
    assert.ok(maxErr <= 1e-4 * (hi - lo), `${stage}: max abs error ${maxErr} exceeds 1e-4 × range ${hi - lo}`);
  });
  return errors;
}

test("Keras 'same' padding puts the odd pixel at the end, as TensorFlow does", () => {
  assert.deepEqual(samePadding(224, 3, 2, 1, "same"), { begin: 0, end: 1, out: 112 });
  assert.deepEqual(samePadding(7, 3, 1, 1, "same"), { begin: 1, end: 1, out: 7 });
  assert.deepEqual(samePadding(299, 3, 2, 1, "valid"), { begin: 0, end: 0, out: 149 });
});

test("MobileNetV2 stages match TensorFlow.js within 1e-4 of their range", async () => {
  const errs = await compareWithTfjs("mobilenet_v2", ["block_5_add", "block_9_add", "block_10_project_BN"], 224);
  console.log(`mobilenet_v2 relative max errors: ${errs.map((e) => e.toExponential(2)).join(", ")}`);
});

test("InceptionV3 mixed2 matches TensorFlow.js within 1e-4 of its range", async () => {
  const errs = await compareWithTfjs("inception_v3", ["mixed2"], 299);
  console.log(`inception_v3 relative max errors: ${errs.map((e) => e.toExponential(2)).join(", ")}`);
});

test("only frozen ImageNet layers are offered as stages", () => {
  const stages = listStages("mobilenet_v2");
  assert.ok(stages.includes("block_10_project_BN") && !stages.includes("block_11_add") && !stages.includes("Conv_1"));
  assert.equal(listStages("inception_v3").at(-1), "mixed5");
  assert.throws(() => buildBackboneOnnx({ arch: "mobilenet_v2", stages: ["block_13_expand"], grid: 28, pool: 3 }), /not frozen/);
});

test("the feature graph yields [N, Σc, grid, grid] and the cache is reused", async () => {
  const spec = { arch: "mobilenet_v2" as const, stages: ["block_5_add", "block_9_add"], grid: 16, pool: 3 };
  const dir = await mkdtemp(join(tmpdir(), "lafite-bb-"));
  const a = await ensureBackbone(spec, dir);
  assert.equal(a.channels, 32 + 64);
  const mtime = (await stat(a.path)).mtimeMs;
  const b = await ensureBackbone(spec, dir);
  assert.equal(b.path, a.path);
  assert.equal((await stat(b.path)).mtimeMs, mtime);
  const session = await ort.InferenceSession.create(a.path);
  const out = await session.run({ image: new ort.Tensor("float32", new Float32Array(2 * 3 * 224 * 224).fill(90), [2, 3, 224, 224]) });
  assert.deepEqual(out.features!.dims, [2, 96, 16, 16]);
});
