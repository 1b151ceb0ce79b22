/**
 * Threshold calibration reuses the tuning's scores of the chosen setting
 * instead of scoring the set again: the thresholds must be exactly those of
 * a fresh scoring.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runTuning } from "../../../src/pipeline/tune/run-tuning.js";
import { calibrateModes } from "../../../src/pipeline/tune/calibrate.js";
import type { PseudoFeature } from "../../../src/pipeline/tune/pseudo-features.js";
import { createRng } from "../../../src/util/random.js";
import { parseModelConfig } from "../../../src/model/model-config.js";
import { openScorer } from "../../../src/pipeline/open-scorer.js";
import { scorePseudoSet } from "../../../src/pipeline/tune/score-set.js";
import { imageScore, topFractionMean } from "../../../src/model/scoring/anomaly-map.js";
import { pseudoSample, SET_SHAPE } from "../../support/pseudo-set.js";

const { c, h, w, S } = SET_SHAPE;
const sample = (rng: ReturnType<typeof createRng>, cls: string, anomalous: boolean): PseudoFeature => pseudoSample(rng, cls, anomalous);

test("calibrateModes given the tuning's chosen scores gives the thresholds of a fresh scoring, and really uses them", async () => {
  const rng = createRng(11);
  const set: PseudoFeature[] = [];
  for (const cls of ["a", "b"]) for (let i = 0; i < 8; i++) set.push(sample(rng, cls, i % 2 === 1));
  const coresetSize = 40;
  const coreset = new Float32Array(coresetSize * c);
  for (let i = 0; i < coreset.length; i++) coreset[i] = rng.normal() * 0.3;
  const parts = { coreset, coresetSize, c };
  const base = { mapSize: S, sigma: 1, pool: 2, k: 3, tau: 20, deltaT: 20, eta: 0 };
  const config = parseModelConfig({ threshold: { rule: "pseudo-f1" } });
  const tuned = await runTuning({ set, parts, base, tuning: { taus: [], tauMode: "lafite", steps: 1, ks: [1, 3, 5], seed: 0, perClass: 4 }, sessionOptions: {} });
  assert.equal(tuned.chosenScores.mode, "edit-only");
  assert.equal(tuned.chosenScores.scores.length, set.length);
  const settings = { ...base, ...tuned.chosen };
  const fresh = await calibrateModes(set, parts, settings, ["knn", "edit-only"], config.threshold, {});
  const reused = await calibrateModes(set, parts, settings, ["knn", "edit-only"], config.threshold, {}, { scored: [tuned.chosenScores] });
  assert.deepEqual(reused, fresh);
  // Scores that differ from a fresh scoring change the threshold: the given scores are what was used.
  const shifted = await calibrateModes(set, parts, settings, ["edit-only"], config.threshold, {}, { scored: [{ mode: "edit-only", scores: tuned.chosenScores.scores.map((s) => s + 100) }] });
  assert.ok(Math.abs(shifted["edit-only"]!.value - (fresh["edit-only"]!.value + 100)) < 1e-6 * Math.max(1, fresh["edit-only"]!.value + 100));
});

test("a setting both sweeps or the final check meet is looked up, not re-scored: every recorded point equals a fresh scoring of its own settings", async () => {
  const rng = createRng(23);
  const set: PseudoFeature[] = [];
  for (const cls of ["a", "b"]) for (let i = 0; i < 8; i++) set.push(sample(rng, cls, i % 2 === 1));
  // A faint bump, so that K and the image-score rule change the AUROCs.
  for (const f of set) if (f.anomalous) for (let ch = 0; ch < c; ch++) f.x.data[ch * h * w + 5] = 0.4 + rng.normal() * 0.3;
  const coresetSize = 40;
  const coreset = new Float32Array(coresetSize * c).map(() => rng.normal() * 0.3);
  const parts = { coreset, coresetSize, c };
  const base = { mapSize: S, sigma: 1, pool: 2, k: 3, tau: 20, deltaT: 20, eta: 0 };
  const tuned = await runTuning({ set, parts, base, tuning: { taus: [], tauMode: "lafite", steps: 1, ks: [1, 3, 5], imageScores: ["pool", "top"], seed: 0, perClass: 4 }, sessionOptions: {} });
  const fresh = async (k: number, imageScore: "pool" | "top") => {
    const opened = await openScorer("edit-only", parts, { ...base, k, imageScore }, {});
    try {
      const r = await scorePseudoSet(set, opened.scorer, { pixels: true });
      return { image_auroc: r.imageAuroc, pixel_auroc: r.pixelAuroc };
    } finally {
      await opened.release();
    }
  };
  for (const p of tuned.record.k.curve) assert.deepEqual({ image_auroc: p.image_auroc, pixel_auroc: p.pixel_auroc }, await fresh(p.k!, p.imageScore!), `K=${p.k} ${p.imageScore}`);
  const d = tuned.record.final!.defaults;
  assert.deepEqual([d.k, d.imageScore], [3, "pool"]);
  assert.deepEqual({ image_auroc: d.image_auroc, pixel_auroc: d.pixel_auroc }, await fresh(3, "pool"));
  // The K points differ from one another, so a lookup keyed too coarsely would show.
  assert.ok(new Set(tuned.record.k.curve.map((p) => `${p.image_auroc} ${p.pixel_auroc}`)).size > 1);
});

test("the image-score rule: top scores the mean of the map's top fraction, pool the pooled max, from the same map", async () => {
  const rng = createRng(5);
  const x = sample(rng, "a", true).x;
  const coreset = new Float32Array(20 * c).map(() => rng.normal() * 0.3);
  const parts = { coreset, coresetSize: 20, c };
  const base = { mapSize: S, sigma: 1, pool: 2, k: 3, tau: 20, deltaT: 20, eta: 0 };
  const pool = await openScorer("edit-only", parts, base, {});
  const top = await openScorer("edit-only", parts, { ...base, imageScore: "top", top: 0.05 }, {});
  try {
    const a = await pool.scorer.score(x);
    const b = await top.scorer.score(x);
    assert.deepEqual(b.map, a.map);
    assert.equal(a.score, imageScore(a.map, S, S, 2));
    assert.equal(b.score, topFractionMean(a.map, 0.05));
    assert.notEqual(a.score, b.score);
  } finally {
    await pool.release();
    await top.release();
  }
});
