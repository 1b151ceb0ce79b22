import { test } from "node:test";
import assert from "node:assert/strict";
import { parseModelConfig } from "../../src/model/model-config.js";
import { detailStagesOf, type BackboneSource } from "../../src/model/backbone-source.js";
import { LafiteError, ErrorCode } from "../../src/util/errors.js";

const builtin: BackboneSource = { name: "mobilenet_v2", onnx: new Uint8Array(), inputSize: 224, stages: ["block_2_add", "block_5_add", "block_9_add"], stageChannels: [24, 32, 64] };
const userOnnx: BackboneSource = { name: "onnx:/x.onnx", onnx: new Uint8Array(), inputSize: 256, stages: ["layer2", "layer3"] };
const configWith = (detail: unknown, tuning: unknown = {}) => parseModelConfig({ scoring: { detail }, tuning });

test("scoring.detail: every key optional, auto and weight 0 by default; the weight grid is tuning's", () => {
  const d = parseModelConfig({});
  assert.deepEqual(d.scoring.detail, { stages: "auto", weight: 0 });
  assert.deepEqual(d.tuning.detailWeights, [0, 0.2, 0.33, 0.5, 0.67, 0.85, 1]);
  assert.deepEqual(configWith({ weight: 0.25 }).scoring.detail, { stages: "auto", weight: 0.25 });
  assert.deepEqual(configWith({ stages: [] }).scoring.detail.stages, []);
  for (const bad of [{ weight: 1.5 }, { weight: -0.1 }, { stages: "fine" }, { stages: [""] }, { extra: 1 }]) {
    assert.throws(() => configWith(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_CONFIG && /scoring\.detail/.test(e.message), JSON.stringify(bad));
  }
  assert.throws(() => configWith({}, { detailWeights: [0, 2] }), /tuning\.detailWeights/);
  assert.throws(() => configWith({}, { detailWeights: [] }), /tuning\.detailWeights/);
});

test("detailStagesOf: auto is every stage but the coarsest; a run of named stages; off for [] and for a user backbone's auto", () => {
  assert.deepEqual(detailStagesOf(parseModelConfig({}), builtin), { stages: ["block_2_add", "block_5_add"], channels: [0, 56] });
  assert.deepEqual(detailStagesOf(configWith({ stages: ["block_5_add"] }), builtin), { stages: ["block_5_add"], channels: [24, 56] });
  assert.equal(detailStagesOf(configWith({ stages: [] }), builtin), undefined);
  assert.equal(detailStagesOf(parseModelConfig({}), userOnnx), undefined);
  assert.equal(detailStagesOf(parseModelConfig({}), { ...builtin, stages: ["block_9_add"], stageChannels: [64] }), undefined, "one stage: nothing finer to search");
  const refused = (config: ReturnType<typeof parseModelConfig>, source: BackboneSource, pattern: RegExp) =>
    assert.throws(() => detailStagesOf(config, source), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_CONFIG && pattern.test(e.message));
  refused(configWith({ stages: ["layer2"] }), userOnnx, /stage widths of a user ONNX backbone are not known/);
  refused(configWith({ stages: ["block_2_add", "block_9_add"] }), builtin, /not a run of the backbone's stages/);
  refused(configWith({ stages: ["block_2_add", "block_5_add", "block_9_add"] }), builtin, /repeat the main one/);
});
