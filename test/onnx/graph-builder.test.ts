import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder } from "../../src/onnx/graph-builder.js";

test("a built Conv + Add graph loads in onnxruntime and computes the right values", async () => {
  const g = new GraphBuilder("smoke");
  const x = g.input("x", DataType.FLOAT, ["batch", 1, 3, 3]);
  // 1 output channel, 2x2 kernel of ones: each output is the sum of a 2x2 window.
  const w = g.initializer("w", new Float32Array([1, 1, 1, 1]), [1, 1, 2, 2]);
  const b = g.initializer("b", new Float32Array([0.5]), [1]);
  const [y] = g.op("Conv", [x, w, b], { kernel_shape: [2, 2], strides: [1, 1] });
  const [z] = g.op("Add", [y!, g.scalar(1)]);
  g.output(z!, DataType.FLOAT, ["batch", 1, 2, 2], "y");
  const session = await ort.InferenceSession.create(g.toBytes());
  const input = new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), [1, 1, 3, 3]);
  const out = await session.run({ x: input });
  assert.deepEqual(Array.from(out.y!.data as Float32Array), [12 + 1.5, 16 + 1.5, 24 + 1.5, 28 + 1.5]);
});

test("duplicate tensor names are refused", () => {
  const g = new GraphBuilder("dup");
  g.input("x", DataType.FLOAT, [1]);
  assert.throws(() => g.input("x", DataType.FLOAT, [1]), /already used/);
});

test("shape mismatch in an initializer is refused", () => {
  const g = new GraphBuilder("bad");
  assert.throws(() => g.initializer("w", new Float32Array(3), [2, 2]), /do not fill/);
});
