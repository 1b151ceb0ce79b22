/** Only frozen ImageNet layers are offered as stages, and bad specs are refused with clear messages. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildBackboneOnnx, listStages } from "../../../src/model/backbone/index.js";
import { readKerasModel } from "../../../src/model/backbone/nsfwjs-package.js";

test("stage lists end at block_10_project_BN / mixed5, and every offered layer is frozen in the topology", () => {
  const mobile = listStages("mobilenet_v2");
  assert.equal(mobile.at(-1), "block_10_project_BN");
  assert.ok(mobile.includes("block_5_add") && mobile.includes("block_9_add") && !mobile.includes("block_11_add") && !mobile.includes("Conv_1"));
  assert.equal(listStages("inception_v3").at(-1), "mixed5");
  for (const arch of ["mobilenet_v2", "inception_v3"] as const) {
    const byName = new Map(readKerasModel(arch).layers.map((l) => [l.name, l]));
    for (const s of listStages(arch)) assert.equal(byName.get(s)!.config.trainable, false, `${arch} ${s} is marked trainable`);
  }
});

test("specs outside the frozen layers or with bad sizes are refused", () => {
  assert.throws(() => buildBackboneOnnx({ arch: "mobilenet_v2", stages: ["block_13_expand"], grid: 28, pool: 3 }), /not frozen/);
  assert.throws(() => buildBackboneOnnx({ arch: "mobilenet_v2", stages: [], grid: 28, pool: 3 }), /at least one/);
  assert.throws(() => buildBackboneOnnx({ arch: "mobilenet_v2", stages: ["block_5_add"], grid: 0, pool: 3 }), /grid/);
  assert.throws(() => buildBackboneOnnx({ arch: "mobilenet_v2", stages: ["block_5_add"], grid: 28, pool: -1 }), /pool/);
});
