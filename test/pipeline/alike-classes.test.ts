/**
 * Two classes that look alike to the model: fit records them (manifest
 * memory.classMeans.alike, ModelInfo.alikeClasses), and a frame tagged with
 * one that reads as the other is NG under model.classTagMismatch: ng but
 * judged by its score under distinct, as eval --class-tags shows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { synthesizeDataset } from "../../src/image/synth/index.js";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { tempDir } from "../support/temp-dir.js";

test("classes the class means confuse are recorded as alike; distinct judges a frame tagged with one and read as the other by its score", async (t) => {
  const dir = await tempDir(t);
  const data = join(dir, "data");
  // Twins: two draws of the same generator under two names; and a third class unlike them.
  await synthesizeDataset({ out: join(dir, "a"), seed: 1, classes: ["hex_nut"], trainPerClass: 20, testGoodPerClass: 6, testPerDefect: 0 });
  await synthesizeDataset({ out: join(dir, "b"), seed: 2, classes: ["hex_nut", "fabric"], trainPerClass: 20, testGoodPerClass: 6, testPerDefect: 0 });
  await rename(join(dir, "a"), data);
  await rename(join(data, "hex_nut"), join(data, "nut_a"));
  await rename(join(dir, "b", "hex_nut"), join(data, "nut_b"));
  await rename(join(dir, "b", "fabric"), join(data, "fabric"));
  const out = join(dir, "bundle");
  const logs: string[] = [];
  await fitModel({ data, out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" }, threshold: { holdout: 0.5 } }), cacheDir: join(dir, "cache"), tune: false, log: (m) => logs.push(m), progressSink: () => {} });
  const m = (await readBundle(out)).manifest;
  assert.deepEqual(m.memory.classMeans!.alike, { nut_a: ["nut_b"], nut_b: ["nut_a"] });
  assert.ok(logs.some((l) => /held-out normals read as nut_[ab]: nut_[ab] looks alike to the model \(nut_[ab]\)/.test(l)), logs.join("\n"));
  const detector = await loadDetector(out);
  try {
    assert.deepEqual(detector.info.alikeClasses, { nut_a: ["nut_b"], nut_b: ["nut_a"] });
    const run = (classTagMismatch: "ng" | "distinct" | "judge") => evaluate(detector, { data, classTags: true, classTagMismatch, log: () => {}, progressSink: () => {} });
    const [ng, distinct, judge] = [await run("ng"), await run("distinct"), await run("judge")];
    const nuts = (r: typeof ng) => ["nut_a", "nut_b"].map((k) => r.verdicts.classes[k]!);
    // Some twin frames read as the other twin: NG under ng, judged by their score under distinct, as under judge.
    const misread = nuts(ng).reduce((n, v) => n + v.misread, 0);
    assert.ok(misread > 0, "some twin frames read as the other twin");
    assert.deepEqual(nuts(distinct).map((v) => v.flagged), nuts(judge).map((v) => v.flagged));
    assert.ok(nuts(ng).reduce((n, v) => n + v.flagged, 0) >= misread);
    assert.ok(nuts(distinct).reduce((n, v) => n + v.flagged, 0) < nuts(ng).reduce((n, v) => n + v.flagged, 0));
    // fabric looks like neither: the same under every rule.
    assert.equal(ng.verdicts.classes.fabric!.misread, 0);
    assert.equal(distinct.classTagMismatch, "distinct");
  } finally {
    await detector.close();
  }
});
