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
import type { BundleScorerFactory } from "../../src/lifecycle/job-body.js";

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
  const { decision: d } = await runGate({ activeDir: active, candidateDir: cand, ...images, aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: pseudo });
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
  const { decision: d } = await runGate({ activeDir: active, candidateDir: cand, ...(await gateImages()), aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: null });
  const a = d.details.active as { detectedDefects: string[] };
  assert.deepEqual(a.detectedDefects, ["defect:1"], "the fitted model must detect the demo defect for this test to mean anything");
  assert.equal(d.passed, false);
  assert.match(d.checks.find((x) => x.startsWith("confirmed defects"))!, /misses defect:1: FAIL/);
  assert.match(d.checks.find((x) => x.startsWith("pseudo-validation"))!, /skipped/);
});

test("a labelled validation folder (promotion.pseudoValidationData) replaces the synthesized set", async () => {
  const cand = await variant(active, join(dir, "same2"), "same2", 1);
  const images = await gateImages();
  const { decision: d } = await runGate({ activeDir: active, candidateDir: cand, ...images, aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: makePseudoValidationAuroc(data, { activeDir: active, acceptedNormals: [] }) });
  assert.equal(d.passed, true, d.checks.join("\n"));
  assert.ok((d.details.active as { auroc: number }).auroc > 0.5);
});

test("when the pseudo-validation set cannot be built (the training data moved), the AUROC check is skipped with the reason and the others decide", async () => {
  const cand = await variant(active, join(dir, "same3"), "same3", 1);
  const moved = join(dir, "moved-demo");
  const { rename } = await import("node:fs/promises");
  await rename(data, moved);
  try {
    const { decision: d } = await runGate({ activeDir: active, candidateDir: cand, defects: [], acceptedHoldout: [], aurocTolerance: 0.01, scorer: pipelineBundleScorer, pseudoValidationAuroc: makePseudoValidationAuroc(null, { activeDir: active, acceptedNormals: [] }) });
    assert.match(d.checks.find((x) => x.startsWith("pseudo-validation"))!, /skipped \(.*cannot read normal image/);
  } finally {
    await rename(moved, data);
  }
});

/** pipelineBundleScorer, counting the models it loads and the images it scores. */
function countingScorer(): { factory: BundleScorerFactory; loaded: number; scored: number } {
  const c = { loaded: 0, scored: 0 };
  const factory: BundleScorerFactory = async (dir, o) => {
    c.loaded++;
    const s = await pipelineBundleScorer(dir, o);
    return { version: s.version, threshold: s.threshold, score: (img) => (c.scored++, s.score(img)), close: () => s.close() };
  };
  return Object.assign(c, { factory });
}

type Judged = { scoredAnew: { images: number; samples: number }; auroc: number; falseAlarms: number; detectedDefects: string[] };

test("a gate given an earlier gate's memos scores only what is new to each model, and decides as a gate without them", async () => {
  const cand = await variant(active, join(dir, "same4"), "same4", 1);
  const images = await gateImages();
  const gate = (acceptedHoldout: typeof images.acceptedHoldout, scorer: BundleScorerFactory, memos?: Awaited<ReturnType<typeof runGate>>["memos"]) =>
    runGate({ activeDir: active, candidateDir: cand, defects: images.defects, acceptedHoldout, aurocTolerance: 0.01, scorer, pseudoValidationAuroc: makePseudoValidationAuroc(null, { activeDir: active, acceptedNormals: acceptedHoldout }), ...(memos ? { memos } : {}) });
  const first = countingScorer();
  const one = await gate(images.acceptedHoldout, first.factory);
  assert.equal(first.loaded, 2);
  const judged = (o: typeof one, who: "active" | "candidate") => o.decision.details[who] as Judged;
  const samples = Object.keys(one.memos[0]!.samples).length;
  assert.ok(samples > 10, `${samples} samples`);
  assert.deepEqual(judged(one, "active").scoredAnew, { images: first.scored / 2, samples });

  // The same images again (the set synthesized again, as the next job does): nothing is scored, no model is loaded.
  const second = countingScorer();
  const two = await gate(images.acceptedHoldout, second.factory, one.memos);
  assert.equal(second.loaded, 0);
  for (const who of ["active", "candidate"] as const) assert.deepEqual(judged(two, who).scoredAnew, { images: 0, samples: 0 });
  assert.deepEqual(two.decision.checks, one.decision.checks);
  assert.deepEqual(two.memos, one.memos);

  // One more accepted normal held out: each model scores it and the samples made from it, and the decision is the
  // one a gate without memos takes.
  const testGood = join(data, "hex_nut", "test", "good");
  const more = [...images.acceptedHoldout, { path: join(testGood, (await readdir(testGood))[1]!), ref: "3" }];
  const third = countingScorer();
  const three = await gate(more, third.factory, two.memos);
  const reference = await gate(more, countingScorer().factory);
  assert.deepEqual(three.decision.checks, reference.decision.checks);
  for (const who of ["active", "candidate"] as const) {
    const { scoredAnew, ...numbers } = judged(three, who);
    const { scoredAnew: all, ...expected } = judged(reference, who);
    assert.deepEqual(numbers, expected);
    assert.equal(scoredAnew.images, 1);
    assert.ok(scoredAnew.samples > 0 && scoredAnew.samples < all.samples, `${scoredAnew.samples} of ${all.samples} samples scored anew`);
  }
  assert.equal(third.scored, 2);

  // A memo holds what its last gate judged, no more: back to the first gate's images, the third normal and its
  // samples are gone from it, so those samples are scored again, to the first gate's figures.
  const fourth = countingScorer();
  const four = await gate(images.acceptedHoldout, fourth.factory, three.memos);
  assert.equal(fourth.loaded, 0);
  assert.equal(judged(four, "active").scoredAnew.images, 0);
  assert.ok(judged(four, "active").scoredAnew.samples > 0);
  assert.deepEqual(four.memos, one.memos);
  assert.deepEqual(four.decision.checks, one.decision.checks);
});
