/**
 * End to end: a 2-layer conv net with SiLU (conv3×3 → SiLU → conv3×3 stride 2)
 * regresses the output of a fixed random "teacher" net of the same shape on
 * fixed random inputs, one train-step session call per optimizer step. The
 * MSE must fall at least 5× within 150 steps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { GraphBuilder, DataType, type Value } from "../../../src/onnx/graph-builder.js";
import { buildTrainStep, type TrainableParam } from "../../../src/onnx/autodiff/train-step.js";
import { rng } from "./finite-differences.js";

const N = 8;
const X: [number, number, number, number] = [N, 2, 8, 8];
const Y = [N, 1, 4, 4];
const HID = 8;

function net(g: GraphBuilder, x: Value, p: (name: string, shape: number[]) => Value): Value {
  const [h] = g.op("Conv", [x, p("c1.w", [HID, 2, 3, 3]), p("c1.b", [HID])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const [s] = g.op("Mul", [h!, g.op("Sigmoid", [h!])[0]!]);
  return g.op("Conv", [s!, p("c2.w", [1, HID, 3, 3]), p("c2.b", [1])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] })[0]!;
}

test("a tiny conv net trained by the ONNX train step cuts its loss ≥ 5×", async (t) => {
  const r = rng(11);
  const normal = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const he = (shape: number[]) => {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => normal() * Math.sqrt(2 / fanIn));
  };
  const xData = Float32Array.from({ length: X.reduce((a, b) => a * b, 1) }, normal);

  // Teacher targets, computed by ORT from the teacher weights as initializers.
  const tg = new GraphBuilder("teacher");
  const tx = tg.input("x", DataType.FLOAT, X);
  const ty = net(tg, tx, (name, shape) => tg.initializer(name, shape.length === 1 ? Float32Array.from({ length: shape[0]! }, () => 0.1 * normal()) : he(shape), shape));
  tg.output(ty, DataType.FLOAT, Y, "y");
  const teacher = await ort.InferenceSession.create(tg.toBytes());
  const yData = (await teacher.run({ x: new ort.Tensor("float32", xData, X) })).y!.data as Float32Array;

  // Student: the same architecture with parameters as graph inputs.
  const g = new GraphBuilder("student");
  const x = g.input("x", DataType.FLOAT, X);
  const target = g.input("target", DataType.FLOAT, Y);
  const params: TrainableParam[] = [];
  const out = net(g, x, (name, shape) => {
    params.push({ name, shape });
    return g.input(name, DataType.FLOAT, shape);
  });
  const [d] = g.op("Sub", [out, target]);
  const [loss] = g.op("ReduceMean", [g.op("Mul", [d!, d!])[0]!], { keepdims: 0 });
  const model = buildTrainStep({ graph: g, params, loss: loss!, adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4 } });
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 2 });

  const state = new Map(params.map((p) => {
    const n = p.shape.reduce((a, b) => a * b, 1);
    return [p.name, { shape: p.shape, p: p.shape.length === 1 ? new Float32Array(n) : he(p.shape), m: new Float32Array(n), v: new Float32Array(n) }];
  }));
  const losses: number[] = [];
  for (let s = 1; s <= 150; s++) {
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor("float32", xData, X),
      target: new ort.Tensor("float32", yData, Y),
      lr: new ort.Tensor("float32", Float32Array.of(1e-2), []),
      step: new ort.Tensor("float32", Float32Array.of(s), []),
    };
    for (const [name, st] of state) {
      feeds[name] = new ort.Tensor("float32", st.p, st.shape);
      feeds[`m/${name}`] = new ort.Tensor("float32", st.m, st.shape);
      feeds[`v/${name}`] = new ort.Tensor("float32", st.v, st.shape);
    }
    const res = await session.run(feeds);
    losses.push((res.loss!.data as Float32Array)[0]!);
    // ORT's CPU outputs own plain ArrayBuffers; the cast only narrows the TypeScript type.
    for (const [name, st] of state) {
      st.p = res[`new/${name}`]!.data as Float32Array<ArrayBuffer>;
      st.m = res[`new_m/${name}`]!.data as Float32Array<ArrayBuffer>;
      st.v = res[`new_v/${name}`]!.data as Float32Array<ArrayBuffer>;
    }
    if (losses[0]! / losses[losses.length - 1]! >= 20) break;
  }
  const first = losses[0]!;
  const last = losses[losses.length - 1]!;
  t.diagnostic(`loss ${first.toFixed(4)} → ${last.toFixed(5)} in ${losses.length} steps (${(first / last).toFixed(1)}×)`);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(first / last >= 5, `loss fell only ${(first / last).toFixed(2)}× (${first} → ${last})`);
});
