/**
 * The score memo is a fast path: a tuning with it must record exactly the
 * points a tuning without it records (its searches against searches at each
 * K, its main passes against passes scored afresh), while it really answers
 * most lookups.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { firstK, ScoreMemo } from "../../src/pipeline/score-memo.js";
import { OnnxKnn } from "../../src/model/memory/onnx-knn.js";
import { runTuning } from "../../src/pipeline/tune/run-tuning.js";
import { calibrateModes } from "../../src/pipeline/tune/calibrate.js";
import { openScorer } from "../../src/pipeline/open-scorer.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { diffusionPreset, trainDiffusion } from "../../src/model/diffusion/index.js";
import type { PseudoFeature } from "../../src/pipeline/tune/pseudo-features.js";
import { createRng } from "../../src/util/random.js";
import { pseudoSample, SET_SHAPE } from "../support/pseudo-set.js";
import { createRng as createPrng, fillNormal } from "../../src/model/diffusion/prng.js";
import { corruptionNoise } from "../../src/model/diffusion/reconstructor.js";

const { c, h, w, S } = SET_SHAPE;
// A faint bump, so that K, τ and the image-score rule change the AUROCs.
const sample = (rng: ReturnType<typeof createRng>, cls: string, anomalous: boolean): PseudoFeature => pseudoSample(rng, cls, anomalous, (r) => 0.5 + r.normal() * 0.3);

test("firstK keeps the first k of every run, as a search at k returns them", () => {
  const r = { indices: Int32Array.from([4, 1, 7, 2, 9, 0]), distances: Float32Array.from([0.1, 0.2, 0.3, 1, 2, 3]) };
  assert.deepEqual(firstK(r, 3, 1), { indices: Int32Array.from([4, 2]), distances: Float32Array.from([0.1, 1]) });
  assert.deepEqual(firstK(r, 3, 2), { indices: Int32Array.from([4, 1, 2, 9]), distances: Float32Array.from([0.1, 0.2, 1, 2]) });
  assert.equal(firstK(r, 3, 3), r);
});

test("a memo's search at each k equals a search at that k, and searches each map once", async () => {
  const rng = createRng(5);
  const n = 50;
  const coreset = new Float32Array(n * c).map(() => rng.normal());
  const memo = await ScoreMemo.open(coreset, n, c, 7, {});
  const x = { c, h, w, data: new Float32Array(c * h * w).map(() => rng.normal()) };
  const rows = new Float32Array(h * w * c);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) rows[p * c + ch] = x.data[ch * h * w + p]!;
  try {
    for (const k of [1, 3, 7]) {
      const direct = await OnnxKnn.create(coreset, n, c, k, {});
      const want = await direct.search(rows, h * w);
      await direct.release();
      const got = await memo.search(x, k);
      assert.deepEqual(got.indices, want.indices, `k ${k}`);
      for (let i = 0; i < want.distances.length; i++) assert.ok(Math.abs(got.distances[i]! - want.distances[i]!) <= 1e-5 * Math.max(1, want.distances[i]!));
    }
    assert.equal(memo.hits.searches, 2, "the map was searched once, then looked up");
    await assert.rejects(() => memo.search(x, 8), RangeError);
  } finally {
    await memo.release();
  }
});

test("a tuning and calibration with the memo record the same points and thresholds as without it, in lafite mode, and the memo answers most lookups", async () => {
  const rng = createRng(31);
  const set: PseudoFeature[] = [];
  for (const cls of ["a", "b"]) for (let i = 0; i < 8; i++) set.push(sample(rng, cls, i % 2 === 1));
  const coresetSize = 40;
  const coreset = new Float32Array(coresetSize * c).map(() => rng.normal() * 0.3);
  const shape = { c, h, w };
  const prng = createPrng(3);
  const maps = Array.from({ length: 8 }, () => fillNormal(prng, new Float32Array(c * h * w)));
  const { unetOnnx } = await trainDiffusion(maps, shape, diffusionPreset("tiny", { batchSize: 4, epochs: 1000, maxSteps: 2 }), { log: () => {} });
  const plain = { coreset, coresetSize, c, unetOnnx };
  const base = { mapSize: S, sigma: 1, pool: 2, k: 3, tau: 20, deltaT: 20, eta: 0 };
  const grid = { taus: [10, 50, 200], tauMode: "lafite" as const, steps: 1, ks: [1, 3, 5], imageScores: ["pool", "top"] as const, seed: 0, perClass: 4 };
  const config = parseModelConfig({ threshold: { rule: "pseudo-f1" } });
  const modes = ["knn", "edit-only", "lafite", "no-edit"] as const;

  const without = await runTuning({ set, parts: plain, base, tuning: grid, sessionOptions: {} });
  const freshThresholds = await calibrateModes(set, plain, { ...base, ...without.chosen }, [...modes], config.threshold, {});

  const memo = await ScoreMemo.open(coreset, coresetSize, c, 5, {});
  try {
    const parts = { ...plain, memo };
    const withMemo = await runTuning({ set, parts, base, tuning: grid, sessionOptions: {} });
    const { seconds: _a, ...a } = withMemo.record;
    const { seconds: _b, ...b } = without.record;
    assert.deepEqual(a, b);
    assert.deepEqual(withMemo.chosen, without.chosen);
    assert.deepEqual(withMemo.chosenScores, without.chosenScores);
    // Six passes search the same 16 maps (τ 10, 50, 200 at K 3; K 1 and 5 at the chosen τ; the final check at the configured τ 20): searched once each, then looked up five times.
    assert.equal(memo.hits.searches, 16 * 5);
    const scoresBefore = memo.hits.scores;
    const thresholds = await calibrateModes(set, parts, { ...base, ...withMemo.chosen }, [...modes], config.threshold, {});
    assert.deepEqual(thresholds, freshThresholds);
    // Calibration's lafite and edit-only passes at the chosen setting were the sweep's: answered whole.
    assert.ok(memo.hits.scores - scoresBefore >= 16, `${memo.hits.scores - scoresBefore} main passes looked up`);
    // Each map's corruption noise is drawn once: the sweep's lafite passes at τ 50 and 200 and at K 1 and 5 took the noise kept at τ 10.
    assert.ok(memo.hits.noises >= 16 * 4, `${memo.hits.noises} noises looked up`);
    // A scorer over another bank does not use the memo: its scores are its own.
    const other = new Float32Array(coreset.length).map((v) => v + 1);
    const opened = await openScorer("knn", { ...parts, coreset: other }, base, {});
    const before = memo.hits.searches;
    await opened.scorer.score(set[0]!.x);
    await opened.release();
    assert.equal(memo.hits.searches, before);
  } finally {
    await memo.release();
  }
});

test("the memo's corruption noise is the frame's own (corruptionNoise), kept up to its cap", async () => {
  const size = 300;
  // Room for two noises of 1,200 bytes.
  const memo = await ScoreMemo.open(new Float32Array(4 * 2), 4, 2, 1, {}, 2 * size * 4);
  try {
    for (const seed of [7, 8, 9]) assert.deepEqual(memo.noise(seed, size), corruptionNoise(seed, size));
    assert.equal(memo.hits.noises, 0);
    memo.noise(7, size);
    memo.noise(8, size);
    assert.equal(memo.hits.noises, 2);
    // The third did not fit: drawn again, and still the same values.
    assert.deepEqual(memo.noise(9, size), corruptionNoise(9, size));
    assert.equal(memo.hits.noises, 2);
    // Another size of the same seed is drawn for that size.
    assert.deepEqual(memo.noise(7, 10), corruptionNoise(7, 10));
    assert.equal(memo.hits.noises, 2);
  } finally {
    await memo.release();
  }
});
