/**
 * The feature head (local average pooling, half-pixel bilinear resize, channel
 * concat) against a plain TypeScript computation on the stage outputs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { buildBackboneOnnx, buildStageOutputsOnnx } from "../../../src/model/backbone/index.js";
import { testImage, toChw } from "./synthetic-image.js";

interface Map3 {
  data: Float32Array;
  c: number;
  h: number;
  w: number;
}

/** k×k mean, stride 1, padding k//2 not counted. */
function avgPool({ data, c, h, w }: Map3, k: number): Map3 {
  const r = k >> 1;
  const oh = h + 2 * r - k + 1;
  const ow = w + 2 * r - k + 1;
  const out = new Float32Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        let s = 0;
        let n = 0;
        for (let dy = 0; dy < k; dy++)
          for (let dx = 0; dx < k; dx++) {
            const yy = y - r + dy;
            const xx = x - r + dx;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            s += data[(ch * h + yy) * w + xx]!;
            n++;
          }
        out[(ch * oh + y) * ow + x] = s / n;
      }
  return { data: out, c, h: oh, w: ow };
}

/** Bilinear, half-pixel centres, edge-clamped. */
function resize({ data, c, h, w }: Map3, oh: number, ow: number): Map3 {
  const src = (o: number, n: number, on: number) => {
    const p = Math.min(Math.max((o + 0.5) * (n / on) - 0.5, 0), n - 1);
    const i0 = Math.floor(p);
    return { i0, i1: Math.min(i0 + 1, n - 1), f: p - i0 };
  };
  const out = new Float32Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < oh; y++) {
      const sy = src(y, h, oh);
      for (let x = 0; x < ow; x++) {
        const sx = src(x, w, ow);
        const at = (yy: number, xx: number) => data[(ch * h + yy) * w + xx]!;
        const top = at(sy.i0, sx.i0) * (1 - sx.f) + at(sy.i0, sx.i1) * sx.f;
        const bottom = at(sy.i1, sx.i0) * (1 - sx.f) + at(sy.i1, sx.i1) * sx.f;
        out[(ch * oh + y) * ow + x] = top * (1 - sy.f) + bottom * sy.f;
      }
    }
  return { data: out, c, h: oh, w: ow };
}

test("features = concat(resize(avgpool(stage))) for downsampled and upsampled stages, batch stays dynamic", async () => {
  const stages = ["block_2_add", "block_9_add"]; // 56×56 (down to 20) and 14×14 (up to 20)
  const grid = 20;
  const pool = 3;
  const size = 224;
  const one = toChw(testImage(size), size);
  const batch = new Float32Array(2 * one.length);
  batch.set(one);
  batch.set(one.map((v) => 255 - v), one.length);

  const staged = await ort.InferenceSession.create(buildStageOutputsOnnx("mobilenet_v2", stages, size));
  const raw = await staged.run({ image: new ort.Tensor("float32", batch, [2, 3, size, size]) });
  const built = buildBackboneOnnx({ arch: "mobilenet_v2", stages, grid, pool });
  assert.equal(built.inputSize, 224);
  assert.deepEqual(built.stageChannels, [24, 64]);
  assert.equal(built.channels, 88);
  const head = await ort.InferenceSession.create(built.onnx);
  const feats = (await head.run({ image: new ort.Tensor("float32", batch, [2, 3, size, size]) })).features!;
  assert.deepEqual(feats.dims, [2, 88, grid, grid]);
  const got = feats.data as Float32Array;

  let maxErr = 0;
  let scale = 0;
  for (let n = 0; n < 2; n++) {
    let offset = n * 88 * grid * grid;
    for (const s of stages) {
      const [, c, h, w] = raw[s]!.dims as [number, number, number, number];
      const data = (raw[s]!.data as Float32Array).slice(n * c * h * w, (n + 1) * c * h * w);
      const want = resize(avgPool({ data, c, h, w }, pool), grid, grid).data;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(want[i]! - got[offset + i]!));
        scale = Math.max(scale, Math.abs(want[i]!));
      }
      offset += want.length;
    }
  }
  assert.ok(scale > 0.1, "features are all zero");
  assert.ok(maxErr <= 1e-5 * scale, `feature head differs from the reference by ${maxErr} (scale ${scale})`);
  await Promise.all([staged.release(), head.release()]);
});
