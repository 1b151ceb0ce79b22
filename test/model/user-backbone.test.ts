import { test } from "node:test";
import { tempDir } from "../support/temp-dir.js";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DataType, GraphBuilder } from "../../src/onnx/graph-builder.js";
import { wrapUserBackbone } from "../../src/model/user-backbone.js";
import { BackboneRunner } from "../../src/model/backbone-runner.js";
import { LafiteError } from "../../src/util/errors.js";

/** A "user" backbone: input `pixels` [N,3,8,8]; `stage_a` = channel sum at 8×8, `stage_b` = 2×2 average pool at 4×4. */
function userModel(): Uint8Array {
  const g = new GraphBuilder("user");
  const x = g.input("pixels", DataType.FLOAT, ["N", 3, 8, 8]);
  g.op("ReduceSum", [x, g.int64s([1])], { keepdims: 1 }, "stage_a");
  const [b] = g.op("AveragePool", [x], { kernel_shape: [2, 2], strides: [2, 2] }, "stage_b");
  g.output(b!, DataType.FLOAT, ["N", 3, 4, 4]);
  return g.toBytes();
}

const cfg = (path: string, extra: object = {}) => ({
  kind: "onnx" as const, path, input: "pixels", outputs: ["stage_a", "stage_b"], inputSize: 8,
  mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number], pool: 0, ...extra,
});

test("a user ONNX backbone is wrapped to the image→features contract with its normalization", async (t) => {
  const dir = await tempDir(t, "lafite-userbb-");
  const path = join(dir, "user.onnx");
  await writeFile(path, userModel());
  const onnx = await wrapUserBackbone(cfg(path), 4);
  const runner = await BackboneRunner.open(onnx, 8, {});
  assert.deepEqual(runner.shape, { c: 4, h: 4, w: 4 });
  // A constant frame of 191.25 normalizes to (0.75 − 0.5)/0.25 = 1 in every channel.
  const [f] = await runner.run(new Float32Array(3 * 64).fill(191.25), 1);
  const v = Array.from(f!.data);
  // stage_a: sum over 3 channels = 3 everywhere (resize of a constant stays constant); stage_b: 1.
  assert.ok(v.slice(0, 16).every((y) => Math.abs(y - 3) < 1e-5), `stage_a ${v.slice(0, 4)}`);
  assert.ok(v.slice(16).every((y) => Math.abs(y - 1) < 1e-5));
});

test("wrong user backbone settings give config errors that say what is wrong", async (t) => {
  const dir = await tempDir(t, "lafite-userbb-");
  const path = join(dir, "user.onnx");
  await writeFile(path, userModel());
  const isConfig = (re: RegExp) => (e: unknown) => e instanceof LafiteError && e.code === "INVALID_CONFIG" && re.test(e.message);
  await assert.rejects(wrapUserBackbone(cfg(path, { input: "nope" }), 4), isConfig(/no input 'nope'/));
  await assert.rejects(wrapUserBackbone(cfg(path, { outputs: ["missing"] }), 4), isConfig(/no tensor named 'missing'/));
  await assert.rejects(wrapUserBackbone(cfg(join(dir, "absent.onnx")), 4), isConfig(/cannot read/));
  await writeFile(join(dir, "junk.onnx"), Buffer.from("not a model at all"));
  await assert.rejects(wrapUserBackbone(cfg(join(dir, "junk.onnx")), 4), isConfig(/not an ONNX model|has no graph|no input/));
});

test("the runner marks the cells that show a letterboxed frame (FeatureMap.frame), and none for a frame that fills the input", async (t) => {
  const dir = await tempDir(t, "lafite-userbb-");
  const path = join(dir, "user.onnx");
  await writeFile(path, userModel());
  const runner = await BackboneRunner.open(await wrapUserBackbone(cfg(path), 4), 8, {}, { aspect: "letterbox", border: "gray" });
  const batch = new Float32Array(2 * 3 * 64).fill(128);
  // A 2×8 frame sits at x 3..5 of the 8-px input; on the 4×4 grid (centres 1, 3, 5, 7) only column 1 shows it.
  const [narrow, square] = await runner.run(batch, 2, [{ width: 2, height: 8 }, { width: 8, height: 8 }]);
  assert.deepEqual(narrow!.frame, { x0: 1, y0: 0, x1: 2, y1: 4 });
  assert.equal(square!.frame, undefined);
  assert.equal("frame" in square!, false);
  // Without sizes the maps say nothing of the frame; a size per image is required when given.
  const [plain] = await runner.run(batch.subarray(0, 3 * 64), 1);
  assert.equal(plain!.frame, undefined);
  await assert.rejects(runner.run(batch, 2, [{ width: 2, height: 8 }]), /1 frame sizes for a batch of 2/);
  await runner.release();
});
