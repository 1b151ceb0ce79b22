/**
 * The converted backbones against an independent reference: TensorFlow.js
 * (CPU backend) running the very same Keras layers model and weights.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { buildStageOutputsOnnx } from "../../../src/model/backbone/index.js";
import { readKerasModel, type BuiltinArch } from "../../../src/model/backbone/nsfwjs-package.js";
import { INPUT_SCALE, samePadding } from "../../../src/model/backbone/keras-to-onnx.js";
import { testImage, toChw } from "./synthetic-image.js";

/** Max |onnx − tfjs| of each stage divided by that activation's (max − min). */
async function compareWithTfjs(arch: BuiltinArch, stages: string[], size: number): Promise<number[]> {
  await tf.setBackend("cpu");
  const km = readKerasModel(arch);
  const weightData = km.weightBytes.slice().buffer;
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: km.topology as tf.io.ModelJSON["modelTopology"], weightSpecs: km.weightSpecs as tf.io.WeightsManifestEntry[], weightData }),
  );
  const sub = tf.model({ inputs: model.inputs, outputs: stages.map((s) => model.getLayer(s).output as tf.SymbolicTensor) });
  const hwc = testImage(size);
  const input = tf.tensor4d(hwc, [1, size, size, 3]).mul(INPUT_SCALE.scale).add(INPUT_SCALE.shift);
  const refs = sub.predict(input) as tf.Tensor | tf.Tensor[];
  const refList = Array.isArray(refs) ? refs : [refs];

  const session = await ort.InferenceSession.create(buildStageOutputsOnnx(arch, stages, size));
  const out = await session.run({ image: new ort.Tensor("float32", toChw(hwc, size), [1, 3, size, size]) });
  await session.release();
  const errors = stages.map((stage, k) => {
    const ref = refList[k]!;
    const [, h, w, c] = ref.shape as [number, number, number, number];
    const refData = ref.dataSync();
    const got = out[stage]!;
    assert.deepEqual(got.dims, [1, c, h, w], `${stage} shape`);
    const data = got.data as Float32Array;
    let maxErr = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let ch = 0; ch < c; ch++) {
          const r = refData[(y * w + x) * c + ch]!;
          lo = Math.min(lo, r);
          hi = Math.max(hi, r);
          maxErr = Math.max(maxErr, Math.abs(r - data[(ch * h + y) * w + x]!));
        }
    assert.ok(hi - lo > 1e-3, `${stage}: the reference activation is flat, the comparison would prove nothing`);
    assert.ok(maxErr <= 1e-4 * (hi - lo), `${stage}: max abs error ${maxErr} exceeds 1e-4 × range ${hi - lo}`);
    return maxErr / (hi - lo);
  });
  tf.dispose([input, ...refList]);
  return errors;
}

test("Keras 'same' padding puts the odd pixel at the end, as TensorFlow does", () => {
  assert.deepEqual(samePadding(224, 3, 2, 1, "same"), { begin: 0, end: 1, out: 112 });
  assert.deepEqual(samePadding(7, 3, 1, 1, "same"), { begin: 1, end: 1, out: 7 });
  assert.deepEqual(samePadding(8, 2, 2, 1, "same"), { begin: 0, end: 0, out: 4 });
  assert.deepEqual(samePadding(299, 3, 2, 1, "valid"), { begin: 0, end: 0, out: 149 });
});

test("MobileNetV2 stages match TensorFlow.js within 1e-4 of their range", async () => {
  const stages = ["block_5_add", "block_9_add", "block_10_project_BN"];
  const errs = await compareWithTfjs("mobilenet_v2", stages, 224);
  console.log(`mobilenet_v2 max error / range: ${stages.map((s, i) => `${s} ${errs[i]!.toExponential(2)}`).join(", ")}`);
});

test("InceptionV3 stages match TensorFlow.js within 1e-4 of their range", async () => {
  const stages = ["mixed0", "mixed2"];
  const errs = await compareWithTfjs("inception_v3", stages, 299);
  console.log(`inception_v3 max error / range: ${stages.map((s, i) => `${s} ${errs[i]!.toExponential(2)}`).join(", ")}`);
});
