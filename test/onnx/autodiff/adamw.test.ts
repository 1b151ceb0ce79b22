/**
 * The AdamW graph against a plain TypeScript AdamW (float64) over several
 * steps with a changing learning rate. Both start from the same parameters;
 * each keeps its own state, and the TypeScript side takes its gradients from
 * the gradient graph at its own parameters, so the two trajectories are
 * independent apart from sharing the gradient code (checked elsewhere).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { GraphBuilder, DataType } from "../../../src/onnx/graph-builder.js";
import { buildGradientGraph, buildTrainStep, type AdamWConfig, type TrainableParam } from "../../../src/onnx/autodiff/train-step.js";
import { rng } from "./finite-differences.js";

function tsAdamW(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, lr: number, step: number, c: AdamWConfig): void {
  for (let i = 0; i < p.length; i++) {
    m[i] = c.beta1 * m[i]! + (1 - c.beta1) * g[i]!;
    v[i] = c.beta2 * v[i]! + (1 - c.beta2) * g[i]! * g[i]!;
    const mhat = m[i]! / (1 - c.beta1 ** step);
    const vhat = v[i]! / (1 - c.beta2 ** step);
    p[i] = p[i]! - lr * c.weightDecay * p[i]! - (lr * mhat) / (Math.sqrt(vhat) + c.eps);
  }
}

test("AdamW graph equals a TypeScript AdamW over 6 steps", async (t) => {
  const g = new GraphBuilder("lin");
  const x = g.input("x", DataType.FLOAT, [5, 3]);
  const target = g.input("target", DataType.FLOAT, [5, 4]);
  const params: TrainableParam[] = [
    { name: "w", shape: [3, 4] },
    { name: "b", shape: [4] },
  ];
  const w = g.input("w", DataType.FLOAT, [3, 4]);
  const b = g.input("b", DataType.FLOAT, [4]);
  const [y] = g.op("Add", [g.op("MatMul", [x, w])[0]!, b]);
  const [d] = g.op("Sub", [y!, target]);
  const [loss] = g.op("ReduceMean", [g.op("Mul", [d!, d!])[0]!], { keepdims: 0 });
  const cfg: AdamWConfig = { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
  const step = await ort.InferenceSession.create(buildTrainStep({ graph: g, params, loss: loss!, adamw: cfg }));
  const grad = await ort.InferenceSession.create(buildGradientGraph({ graph: g, params, loss: loss! }));

  const r = rng(3);
  const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * r() - 1);
  const data = { x: new ort.Tensor("float32", rand(15), [5, 3]), target: new ort.Tensor("float32", rand(20), [5, 4]) };
  const ortState = new Map<string, { p: Float32Array; m: Float32Array; v: Float32Array }>();
  const tsState = new Map<string, { p: Float64Array; m: Float64Array; v: Float64Array }>();
  for (const p of params) {
    const n = p.shape.reduce((a, c) => a * c, 1);
    const init = rand(n);
    ortState.set(p.name, { p: init, m: new Float32Array(n), v: new Float32Array(n) });
    tsState.set(p.name, { p: Float64Array.from(init), m: new Float64Array(n), v: new Float64Array(n) });
  }
  const shapeOf = new Map(params.map((p) => [p.name, p.shape]));
  let maxDiff = 0;
  for (let s = 1; s <= 6; s++) {
    const lr = 0.05 / s;
    const feeds: Record<string, ort.Tensor> = { ...data, lr: new ort.Tensor("float32", Float32Array.of(lr), []), step: new ort.Tensor("float32", Float32Array.of(s), []) };
    for (const [name, st] of ortState) {
      const sh = shapeOf.get(name)!;
      feeds[name] = new ort.Tensor("float32", st.p, sh);
      feeds[`m/${name}`] = new ort.Tensor("float32", st.m, sh);
      feeds[`v/${name}`] = new ort.Tensor("float32", st.v, sh);
    }
    const out = await step.run(feeds);
    for (const name of ortState.keys()) {
      ortState.set(name, { p: out[`new/${name}`]!.data as Float32Array, m: out[`new_m/${name}`]!.data as Float32Array, v: out[`new_v/${name}`]!.data as Float32Array });
    }
    const gfeeds: Record<string, ort.Tensor> = { ...data };
    for (const [name, st] of tsState) gfeeds[name] = new ort.Tensor("float32", Float32Array.from(st.p), shapeOf.get(name)!);
    const gout = await grad.run(gfeeds);
    for (const [name, st] of tsState) {
      tsAdamW(st.p, gout[`grad/${name}`]!.data as Float32Array, st.m, st.v, lr, s, cfg);
      const o = ortState.get(name)!;
      for (let i = 0; i < st.p.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(o.p[i]! - st.p[i]!));
        assert.ok(Math.abs(o.p[i]! - st.p[i]!) <= 2e-6, `step ${s} ${name}[${i}]: ${o.p[i]} vs ${st.p[i]}`);
        assert.ok(Math.abs(o.m[i]! - st.m[i]!) <= 1e-6 * Math.max(1, Math.abs(st.m[i]!)), `step ${s} m/${name}[${i}]`);
        assert.ok(Math.abs(o.v[i]! - st.v[i]!) <= 1e-6 * Math.max(1e-3, Math.abs(st.v[i]!)), `step ${s} v/${name}[${i}]`);
      }
    }
  }
  t.diagnostic(`max |Δparam| between graph and TypeScript AdamW: ${maxDiff.toExponential(2)}`);
});

test("AdamW: invalid hyper-parameters and stepsPerCall are refused", () => {
  const g = new GraphBuilder("p");
  const w = g.input("w", DataType.FLOAT, [2]);
  const [l] = g.op("ReduceSum", [w], { keepdims: 0 });
  const params = [{ name: "w", shape: [2] }];
  assert.throws(() => buildTrainStep({ graph: g, params, loss: l!, adamw: { beta1: 1, beta2: 0.99, eps: 1e-8, weightDecay: 0 } }), /beta1/);
  assert.throws(() => buildTrainStep({ graph: g, params, loss: l!, adamw: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 }, stepsPerCall: 4 }), /stepsPerCall/);
  assert.throws(() => buildTrainStep({ graph: g, params: [{ name: "w", shape: [3] }], loss: l!, adamw: { beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 } }), /declared \[3\]/);
});
