import { test } from "node:test";
import assert from "node:assert/strict";
import { FitEta, REFERENCE_SECONDS as R, stageEstimates, type FitWork } from "../../src/pipeline/fit-eta.js";
import type { ProgressState } from "../../src/util/progress.js";
import { fitWork } from "../../src/pipeline/fit.js";
import { tileFitSeconds, tileScorings, tileScoringSeconds, tileStepSinks } from "../../src/pipeline/tiling/fit-tiles.js";
import { parseModelConfig } from "../../src/model/model-config.js";

const work: FitWork = { images: 1000, coresetOps: 1e12, diffusionGmac: 10_000, pseudoImages: 200, tuneScorings: 2400, thresholdScorings: 800, scoringGmac: 2 };

test("stageEstimates: work × reference rates", () => {
  const e = stageEstimates(work);
  assert.ok(Math.abs(e.features - 1000 * R.image) < 1e-9);
  assert.ok(Math.abs(e.coreset - 1e12 * R.coresetOp) < 1e-9);
  assert.ok(Math.abs(e.diffusion - 10_000 * R.diffusionGmac) < 1e-9);
  assert.ok(Math.abs(e.pseudo - 200 * R.pseudoImage) < 1e-9);
  assert.ok(Math.abs(e.tune - 2400 * (R.scoring + 2 * R.scoringGmac)) < 1e-9);
  assert.ok(Math.abs(e.threshold - 800 * R.thresholdScoring) < 1e-9);
});

test("FitEta: the sum of all stages before any runs; the running stage's own ETA replaces its estimate", () => {
  const eta = new FitEta(work);
  const e = stageEstimates(work);
  const all = Object.values(e).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(eta.remaining("features") - all) < 1e-6);
  assert.ok(Math.abs(eta.remaining("features", 5) - (all - e.features + 5)) < 1e-6);
  // Infinity (no unit done yet) falls back to the estimate.
  assert.ok(Math.abs(eta.remaining("features", Infinity) - all) < 1e-6);
});

test("FitEta: later stages count by their estimates, whatever the running stage's own rate", () => {
  const eta = new FitEta(work);
  const e = stageEstimates(work);
  assert.ok(Math.abs(eta.remaining("coreset", 10) - (10 + e.diffusion + e.pseudo + e.tune + e.threshold)) < 1e-6);
  // The last stage has nothing after it.
  assert.equal(eta.remaining("threshold", 3), 3);
});

test("FitEta.sink appends the whole fit's ETA to each stage's line", () => {
  const eta = new FitEta({ ...work, images: 0, coresetOps: 0, diffusionGmac: 0, pseudoImages: 0, tuneScorings: 0, thresholdScorings: 600 / R.thresholdScoring });
  const lines: string[] = [];
  const sink = eta.sink("tune", (l) => lines.push(l));
  const state: ProgressState = { label: "tune", done: 5, total: 10, elapsedSeconds: 5, remainingSeconds: 60 };
  sink("tune: 5/10 scorings", state);
  // 60 s of tuning left + 600 s of thresholds estimated.
  assert.deepEqual(lines, ["tune: 5/10 scorings · fit ETA 11m00s"]);
});

test("FitEta.sink keeps the stage's estimate until its own rate has settled (5 % done or 15 s)", () => {
  const eta = new FitEta({ ...work, images: 0, diffusionGmac: 0, pseudoImages: 0, tuneScorings: 0, thresholdScorings: 0, coresetOps: 100 / R.coresetOp });
  const lines: string[] = [];
  const sink = eta.sink("coreset", (l) => lines.push(l));
  // 1 of 10,000 centers after 0.1 s, with the setup in it: its own ETA says 1,000 s; the estimate (100 s) stands.
  sink("a", { label: "coreset", done: 1, total: 10_000, elapsedSeconds: 0.1, remainingSeconds: 1000 });
  // 600 of 10,000 done: its own ETA counts.
  sink("b", { label: "coreset", done: 600, total: 10_000, elapsedSeconds: 9, remainingSeconds: 141 });
  // 20 s in: its own ETA counts even below 5 %.
  sink("c", { label: "coreset", done: 100, total: 10_000, elapsedSeconds: 20, remainingSeconds: 200 });
  assert.deepEqual(lines, ["a · fit ETA 1m40s", "b · fit ETA 2m21s", "c · fit ETA 3m20s"]);
});

test("FitEta: work after the last stage (a fit's tiled classes) counts to the end", () => {
  const e = stageEstimates(work);
  const eta = new FitEta(work, 300);
  assert.ok(Math.abs(eta.remaining("threshold", 10) - 310) < 1e-6);
  assert.ok(Math.abs(eta.remaining("features") - (Object.values(e).reduce((a, b) => a + b, 0) + 300)) < 1e-6);
});

test("tileFitSeconds: a fit of the class's grid² tiles and the scorings after it, growing with the grid", () => {
  const config = parseModelConfig({ tiling: { classes: ["sheet"] }, diffusion: { preset: "none" }, scoring: { mode: "knn" } });
  const n = { bank: 23, heldOut: 2, c: 120, h: 28, w: 28, tune: true };
  const two = tileFitSeconds(config, undefined, { ...n, grid: 2 });
  const four = tileFitSeconds(config, undefined, { ...n, grid: 4 });
  assert.ok(two > 0 && four > two, `${two} s at 2×2, ${four} s at 4×4`);
  // At least the fit of the tiles alone, as fitWork and stageEstimates price it.
  const alone = stageEstimates(fitWork(config, undefined, { images: 25 * 16, holdout: 32, bankImagesPerClass: [368], leftOutImages: 0, c: 120, h: 28, w: 28, tune: true }));
  assert.ok(four > Object.values(alone).reduce((a, b) => a + b, 0));
});

test("tileScorings: each step after a tile fit, by hand; tileFitSeconds is the fit's stages plus their scorings", () => {
  const config = parseModelConfig({ tiling: { classes: ["sheet"] }, diffusion: { preset: "none" }, scoring: { mode: "knn" }, tuning: { perClass: 20 } });
  // 2 held out and 23 bank frames in 4×4 tiles: the held-out frames' 32 tiles, all 23 bank frames' 368 (under 100 frames in all),
  // the whole model on the 2 held-out frames, and the choice's 2 + 2×20 frames each whole and in 16 tiles.
  assert.deepEqual(tileScorings(config, { bank: 23, heldOut: 2, grid: 4, tune: true }), { heldOut: 32, leftOut: 368, wholeUnit: 2, choice: 42 * 17 });
  // 150 bank frames: up to 100 frames in all; no choice without tuning.
  assert.deepEqual(tileScorings(config, { bank: 150, heldOut: 15, grid: 2, tune: false }), { heldOut: 60, leftOut: 85 * 4, wholeUnit: 15, choice: 0 });
  const n = { bank: 23, heldOut: 2, grid: 4, c: 120, h: 28, w: 28, tune: true };
  const stages = Object.values(stageEstimates(fitWork(config, undefined, { images: 25 * 16, holdout: 32, bankImagesPerClass: [368], leftOutImages: 0, c: 120, h: 28, w: 28, tune: true }))).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(tileFitSeconds(config, undefined, n) - (stages + (32 + 368 + 2 + 42 * 17) * tileScoringSeconds(config, undefined, n))) < 1e-6);
});

test("tileStepSinks: the step's own ETA once settled (else its estimate), the later steps' estimates and the later tile fits'", () => {
  const lines: string[] = [];
  const sinkOf = tileStepSinks({ heldOut: 10, leftOut: 20, wholeUnit: 2, choice: 30 }, 0.5, 100, (line) => lines.push(line));
  const state = (done: number, total: number, remainingSeconds: number, elapsedSeconds = 1): ProgressState => ({ label: "step", done, total, elapsedSeconds, remainingSeconds });
  // Not settled (1 of 40 frames, 1 s in): the step's estimate, 20 × 0.5 s, + (2 + 30) × 0.5 + 100.
  sinkOf("leftOut")("bank frames 1/40", state(1, 40, 500));
  // Settled: its own 30 s + 16 + 100.
  sinkOf("leftOut")("bank frames 10/20", state(10, 20, 30));
  // The last step: its own 4 s + 100.
  sinkOf("choice")("choice 29/30", state(29, 30, 4));
  assert.deepEqual(lines, ["bank frames 1/40 · fit ETA 2m06s", "bank frames 10/20 · fit ETA 2m26s", "choice 29/30 · fit ETA 1m44s"]);
});
