import { test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { resolveExecutionProvider } from "../../src/model/execution-provider.js";
import { sessionOptions } from "../../src/model/backbone-runner.js";
import { DataType, GraphBuilder } from "../../src/onnx/graph-builder.js";

test("asking for cuda yields a provider that opens sessions, said in one log line", async () => {
  const lines: string[] = [];
  const ep = await resolveExecutionProvider("cuda", (l) => lines.push(l));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, ep === "cuda" ? /^execution provider: cuda$/ : /^execution provider: cpu \(cuda requested but unavailable: .+\)$/);
  const g = new GraphBuilder("t");
  const x = g.input("x", DataType.FLOAT, [2]);
  g.output(g.op("Neg", [x])[0]!, DataType.FLOAT, [2], "y");
  const s = await ort.InferenceSession.create(g.toBytes(), sessionOptions(ep));
  const out = await s.run({ x: new ort.Tensor("float32", Float32Array.of(1, -2), [2]) });
  assert.deepEqual(Array.from(out.y!.data as Float32Array), [-1, 2]);
});

test("cpu is taken as asked", async () => {
  assert.equal(await resolveExecutionProvider("cpu"), "cpu");
});
