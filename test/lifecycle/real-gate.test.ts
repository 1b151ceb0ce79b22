/**
 * The promotion gate with the real pipeline: a small kNN bundle fitted on
 * one demo class, judged against a copy of itself (passes, with identical
 * numbers) and against a copy whose threshold is raised so far that it
 * misses the confirmed defect (fails). The AUROC check runs on the
 * pseudo-validation set synthesized from the active bundle's held-out images
 * and the held-out accepted frame, or on a labelled folder when configured.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeDataset } from "../../src/image/synth/index.js";
import { fitModel } from "../../src/pipeline/fit.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle, writeBundle } from "../../src/model/bundle.js";
import { runGate } from "../../src/lifecycle/gate.js";
import { pipelineBundleScorer } from "../../src/lifecycle/bundle-scorer.js";
import { makePseudoValidationAuroc } from "../../src/lifecycle/pseudo-validation.js";
import { defaultCacheDir } from "../../src/cli/commands/fit.js";

let dir = "";
let data = "";
let active = "";

/** A copy of `src` under a new version, with its threshold multiplied by `factor`. */
async function variant(src: string, out: string, version: string, factor: number): Promise<string> {
  const b = await readBundle(src);
  const { files: _f, ...m } = b.manifest;
  const files = Object.fromEntries(Object.keys(b.manifest.files).map((n) => [n, b.file(n)]));
  // The class thresholds too: the class, short of held-out normals, has its own from its bank images left out.
  const classes = m.threshold.classes ? Object.fromEntries(Object.entries(m.threshold.classes).map(([k, v]) => [k, { ...v, value: v.value * factor }])) : undefined;
  const threshold = { ...m.threshold, value: m.threshold.value * factor, ...(classes ? { classes } : {}) };
  await writeBundle(out, { ...m, version, threshold, thresholds: { [m.scoring.mode]: threshold } }, files);
  return out;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-gate-"));
  data = join(dir, "demo");
  active = join(dir, "active");
  await synthesizeDataset({ out: data, seed: 5, classes: ["hex_nut"], trainPerClass: 12, testGoodPerClass: 4, testPerDefect: 1 });
  await fitModel({ data, out: active, config: parseModelConfig({ scoring: { mode: "knn" }, diffusion: { preset: "none" } }), cacheDir: defaultCacheDir(), log: () => {}, progressSink: () => {} });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function gateImages() {
  const testDir = join(data, "hex_nut", "test");
  const defectType = (await readdir(testDir)).find((d) => d !== "good")!;
  const defect = join(testDir, defectType, (await readdir(join(testDir, defectType)))[0]!);
  const good = join(testDir, "good", (await readdir(join(testDir, "good")))[0]!);
  return { defects: [{ path: defect, ref: "1" }], acceptedHoldout: [{ path: good, ref: "2" }] };
}

test("a candidate equal to the active model passes every check with the same numbers, on the synthesized pseudo-validation set", async () => {
  const cand = await variant(active, join(dir, "same"), "same", 1);
  const images = await gateImages();
  const pseudo = makePseudoValidationAuroc(null, { activeDir: active, acceptedNormals: images.acceptedHoldout });
  const d = await runGate({ activeDir: active, candidateDir: cand, ...images, aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: pseudo });
  assert.equal(d.passed, true, d.checks.join("\n"));
  const a = d.details.active as { falseAlarms: number; auroc: number; detectedDefects: string[] };
  const c = d.details.candidate as typeof a;
  assert.equal(c.falseAlarms, a.falseAlarms);
  assert.equal(c.auroc, a.auroc);
  assert.ok(a.auroc > 0.5, `AUROC ${a.auroc}`);
  assert.deepEqual((d.details.normals as { old: number }).old > 0, true);
  assert.equal(d.checks.length, 3);
  assert.ok(d.checks.every((x) => x.endsWith("ok")), d.checks.join("\n"));
});

test("a candidate that no longer detects a confirmed defect the active model detects is refused", async () => {
  const cand = await variant(active, join(dir, "blind"), "blind", 1000);
  const d = await runGate({ activeDir: active, candidateDir: cand, ...(await gateImages()), aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: null });
  const a = d.details.active as { detectedDefects: string[] };
  assert.deepEqual(a.detectedDefects, ["defect:1"], "the fitted model must detect the demo defect for this test to mean anything");
  assert.equal(d.passed, false);
  assert.match(d.checks.find((x) => x.startsWith("confirmed defects"))!, /misses defect:1: FAIL/);
  assert.match(d.checks.find((x) => x.startsWith("pseudo-validation"))!, /skipped/);
});

test("a labelled validation folder (promotion.pseudoValidationData) replaces the synthesized set", async () => {
  const cand = await variant(active, join(dir, "same2"), "same2", 1);
  const images = await gateImages();
  const d = await runGate({ activeDir: active, candidateDir: cand, ...images, aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: makePseudoValidationAuroc(data, { activeDir: active, acceptedNormals: [] }) });
  assert.equal(d.passed, true, d.checks.join("\n"));
  assert.ok((d.details.active as { auroc: number }).auroc > 0.5);
});

test("when the pseudo-validation set cannot be built (the training data moved), the AUROC check is skipped with the reason and the others decide", async () => {
  const cand = await variant(active, join(dir, "same3"), "same3", 1);
  const moved = join(dir, "moved-demo");
  const { rename } = await import("node:fs/promises");
  await rename(data, moved);
  try {
    const d = await runGate({ activeDir: active, candidateDir: cand, defects: [], acceptedHoldout: [], aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: makePseudoValidationAuroc(null, { activeDir: active, acceptedNormals: [] }) });
    assert.match(d.checks.find((x) => x.startsWith("pseudo-validation"))!, /skipped \(.*cannot read normal image/);
  } finally {
    await rename(moved, data);
  }
});
