/**
 * The context bank's weight per class, chosen on swapped parts, and the
 * scorer that serves it: a part of the other kind in a frame of one kind is
 * invisible to the main bank and plain to the context bank; the sweep's
 * scores are what a scorer opened with the chosen settings gives; the
 * context search is the nearest row over features and λ·context (brute force).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { tuneDetailWeight } from "../../../src/pipeline/tune/detail-weight.js";
import { chooseContextWeight, chooseImageContextWeight, reachedClasses, reachedCosts } from "../../../src/pipeline/tune/context-weight.js";
import type { PseudoFeature } from "../../../src/pipeline/tune/pseudo-features.js";
import { scorePseudoSet } from "../../../src/pipeline/tune/score-set.js";
import { openScorer, type ScorerParts } from "../../../src/pipeline/open-scorer.js";
import { seedOfFeatures } from "../../../src/pipeline/frame-scorer.js";
import { contextCoreset, scaledContextRows } from "../../../src/model/memory/context-coreset.js";
import { frameContext } from "../../../src/model/scoring/context-bank.js";
import { createRng } from "../../../src/util/random.js";
import { LafiteError } from "../../../src/util/errors.js";
import type { FeatureMap } from "../../../src/model/types.js";

// Channels 0–1 "fine", 2–3 the coarsest stage (the context's).
const c = 4, h = 4, w = 4, S = 16, hw = h * w;
const settings = { mapSize: S, sigma: 1, pool: 2, imageScore: "top" as const, top: 0.05, k: 1, tau: 20, deltaT: 20, eta: 0 };
const PARTS = [5, 10];
const LAMBDA = 4;

/** A kit frame: plate everywhere, a part at each of PARTS whose channel 2 is +3 (kind A) or −3 (kind B); `odd` parts take the other kind's sign. */
function kitFrame(rng: ReturnType<typeof createRng>, sign: 1 | -1, odd: readonly number[] = []): FeatureMap {
  const data = new Float32Array(c * hw);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.05;
  for (const p of PARTS) data[2 * hw + p] = data[2 * hw + p]! + 3 * (odd.includes(p) ? -sign : sign);
  return { c, h, w, data };
}

/** A texture frame: loud noise and a level of its own in channel 3, so the classes never share rows. */
function texFrame(rng: ReturnType<typeof createRng>): FeatureMap {
  const data = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) data[ch * hw + p] = (ch === 3 ? 6 : 0) + rng.normal();
  return { c, h, w, data };
}

function cellMask(p: number): Uint8Array {
  const mask = new Uint8Array(S * S);
  const [py, px] = [Math.floor(p / w), p % w];
  for (let y = py * 4; y < py * 4 + 4; y++) for (let x = px * 4; x < px * 4 + 4; x++) mask[y * S + x] = 1;
  return mask;
}

/** `normals` kit-looking frames of class `cls`, then `anomalies` with a pasted-like anomaly: a fine-channel bump at a plate cell, which both searches see. */
function kitLikeFrames(rng: ReturnType<typeof createRng>, cls: string, normals: number, anomalies: number): PseudoFeature[] {
  const out: PseudoFeature[] = [];
  for (let i = 0; i < normals; i++) out.push({ cls, anomalous: false, x: kitFrame(rng, i % 2 === 0 ? 1 : -1) });
  for (let i = 0; i < anomalies; i++) {
    const x = kitFrame(rng, i % 2 === 0 ? 1 : -1);
    x.data[0 * hw + 3] = x.data[0 * hw + 3]! + 2;
    out.push({ cls, anomalous: true, x, mask: cellMask(3) });
  }
  return out;
}

function rowsOf(maps: readonly FeatureMap[]): Float32Array {
  const out = new Float32Array(maps.length * hw * c);
  maps.forEach((x, i) => {
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) out[(i * hw + p) * c + ch] = x.data[ch * hw + p]!;
  });
  return out;
}

async function makeModel(seed: number): Promise<{ set: PseudoFeature[]; swaps: PseudoFeature[]; parts: ScorerParts }> {
  const rng = createRng(seed);
  const bank: FeatureMap[] = [];
  const bankClasses: string[] = [];
  for (let i = 0; i < 12; i++) (bank.push(kitFrame(rng, i % 2 === 0 ? 1 : -1)), bankClasses.push("kit"));
  for (let i = 0; i < 6; i++) (bank.push(texFrame(rng)), bankClasses.push("tex"));
  const names = ["kit", "tex"];
  const contextBank = await contextCoreset(bank, bankClasses, names, { kit: 96 }, { candidates: 100_000, sampling: "uniform", seed: 3, projectionDim: 64, lambda: LAMBDA, channels: [2, 4] });
  const parts: ScorerParts = {
    coreset: rowsOf(bank),
    coresetSize: bank.length * hw,
    c,
    rowClasses: { classes: Int32Array.from(bankClasses.flatMap((k) => Array<number>(hw).fill(names.indexOf(k)))), names },
    contextBank,
  };
  const set: PseudoFeature[] = [];
  set.push(...kitLikeFrames(rng, "kit", 10, 4));
  for (let i = 0; i < 10; i++) set.push({ cls: "tex", anomalous: false, x: texFrame(rng) });
  for (let i = 0; i < 4; i++) {
    const x = texFrame(rng);
    x.data[0 * hw + 6] = x.data[0 * hw + 6]! + 5;
    set.push({ cls: "tex", anomalous: true, x, mask: cellMask(6) });
  }
  // Swapped parts: one part of the other kind.
  const swaps: PseudoFeature[] = [];
  for (let i = 0; i < 8; i++) {
    const p = PARTS[i % 2]!;
    swaps.push({ cls: "kit", anomalous: true, x: kitFrame(rng, i % 4 < 2 ? 1 : -1, [p]), mask: cellMask(p) });
  }
  return { set, swaps, parts };
}

const tune = (m: Awaited<ReturnType<typeof makeModel>>, weights: number[], minSwaps = 3) =>
  tuneDetailWeight({ set: m.set, parts: m.parts, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: [0, 2], weights: [0], context: { lambda: LAMBDA, weights, margin: 0.03, tolerance: 0.03, minSwaps, swaps: m.swaps }, sessionOptions: {} });

test("the context weight goes above 0 for the class whose swapped parts only context sees, and the class without swaps is not swept", async () => {
  const m = await makeModel(1);
  const r = await tune(m, [0, 0.5, 1]);
  const kit = r.contextRecord!.classes["kit"]!;
  assert.deepEqual(kit.curve.map((p) => p.weight), [0, 0.5, 1]);
  assert.ok(kit.curve[2]!.swaps_auroc! > kit.curve[0]!.swaps_auroc! + 0.2, `context alone ${kit.curve[2]!.swaps_auroc} against main ${kit.curve[0]!.swaps_auroc} on the swapped parts`);
  // The fine bump at a plate cell stays visible to both searches.
  assert.ok(kit.curve.every((p) => p.image_auroc! > 0.9), JSON.stringify(kit.curve));
  assert.ok(kit.chosen > 0);
  assert.deepEqual(r.contextRecord!.swaps, { kit: 8 });
  assert.equal(r.contextRecord!.classes["tex"], undefined);
  assert.deepEqual(r.context!.classWeights, { kit: kit.chosen });
  assert.equal(r.context!.weight, 0);
  // Fewer swaps than minSwaps: nothing speaks for context, W stays 0 for every class.
  const few = await tune(m, [0, 0.5, 1], 9);
  assert.deepEqual(few.context!.classWeights, {});
});

test("the sweep's scores at the chosen weights are what a scorer opened with the chosen detail and context settings gives, in every mode", async () => {
  const m = await makeModel(2);
  const r = await tune(m, [0, 1]);
  assert.equal(r.context!.classWeights!["kit"], 1);
  for (const { mode, scores } of r.scored) {
    const opened = await openScorer(mode, m.parts, { ...settings, detail: r.detail, context: r.context! }, {});
    try {
      const served = (await scorePseudoSet(m.set, opened.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
      // A kit frame is blended with its class's W, a texture frame with none.
      const kit = await opened.scorer.positionScores(m.set[0]!.x, seedOfFeatures(m.set[0]!.x));
      const tex = await opened.scorer.positionScores(m.set[14]!.x, seedOfFeatures(m.set[14]!.x));
      assert.equal(kit.contextWeight, 1);
      assert.equal(tex.contextWeight, 0);
    } finally {
      await opened.release();
    }
  }
});

test("the context search is the nearest context row over features and λ·context (brute force); a bundle without context rows is refused", async () => {
  const m = await makeModel(3);
  const unit = { mean: 0, sd: 1 };
  const context = { lambda: LAMBDA, weight: 1, normalizers: { context: unit, main: { knn: unit } } };
  const opened = await openScorer("knn", m.parts, { ...settings, context }, {});
  const bank = m.parts.contextBank!;
  const rows = scaledContextRows(bank, LAMBDA);
  try {
    for (const f of [...m.set.slice(0, 3), m.set[14]!]) {
      const got = (await opened.scorer.positionScores(f.x, seedOfFeatures(f.x))).values;
      const ctx = frameContext(f.x, [2, 4]);
      for (let p = 0; p < hw; p++) {
        const q = [...Array.from({ length: c }, (_, ch) => f.x.data[ch * hw + p]!), ...Array.from(ctx, (v) => LAMBDA * v)];
        let best = Infinity;
        for (let r = 0; r < bank.size; r++) best = Math.min(best, q.reduce((a, v, j) => a + (v - rows[r * (c + 2) + j]!) ** 2, 0));
        assert.ok(Math.abs(got[p]! - Math.sqrt(best)) < 1e-3, `position ${p}: ${got[p]} vs ${Math.sqrt(best)}`);
      }
    }
  } finally {
    await opened.release();
  }
  const { contextBank: _none, ...without } = m.parts;
  await assert.rejects(openScorer("knn", without, { ...settings, context }, {}), (e: unknown) => e instanceof LafiteError && /no context rows/.test(e.message));
  await assert.rejects(openScorer("edit-only", m.parts, { ...settings, context }, {}), (e: unknown) => e instanceof LafiteError && /no normalizer for mode 'edit-only'/.test(e.message));
});

test("chooseContextWeight: the best swapped-part AUROC that beats W 0 by the margin without costing the other anomalies more than the tolerance", () => {
  const p = (weight: number, swaps: number, image: number | null, aupro: number | null = image) => ({ weight, swaps_auroc: swaps, image_auroc: image, pixel_auroc: null, aupro });
  // 0.5 beats W 0 by 0.2 on the swaps and 1 by 0.25; 1 wins.
  assert.equal(chooseContextWeight([p(0, 0.7, 0.9), p(0.5, 0.9, 0.9), p(1, 0.95, 0.89)], 0.03, 0.03), 2);
  // 1 costs the other anomalies (0.9 → 0.8 mean) more than the margin: 0.5 instead.
  assert.equal(chooseContextWeight([p(0, 0.7, 0.9), p(0.5, 0.9, 0.9), p(1, 0.95, 0.9, 0.7)], 0.03, 0.03), 1);
  // A gain under the margin keeps W 0; so does a class without other anomalies whose swaps do not gain.
  assert.equal(chooseContextWeight([p(0, 0.7, 0.9), p(0.5, 0.72, 0.9), p(1, 0.71, 0.9)], 0.03, 0.03), 0);
  assert.equal(chooseContextWeight([p(0, 0.7, null), p(1, 0.7, null)], 0.03, 0.03), 0);
  assert.equal(chooseContextWeight([p(0, 0.7, null), p(1, 0.8, null)], 0.03, 0.03), 1);
  // Ties keep the smaller weight.
  assert.equal(chooseContextWeight([p(0, 0.5, 0.9), p(0.5, 0.9, 0.9), p(1, 0.9, 0.9)], 0.03, 0.03), 1);
});

test("chooseContextWeight: margin and tolerance apart: a small gain on the swaps is enough where the other anomalies lose less than the tolerance", () => {
  const p = (weight: number, swaps: number, image: number, aupro: number) => ({ weight, swaps_auroc: swaps, image_auroc: image, pixel_auroc: null, aupro });
  // Lafite mode on the kit (fit log): swaps 87.3 / 88.0 / 88.3, others' mean 98.95 / 98.85 / 96.6.
  const kit = [p(0, 0.873, 1, 0.979), p(0.5, 0.88, 1, 0.977), p(1, 0.883, 0.99, 0.942)];
  assert.equal(chooseContextWeight(kit, 0.005, 0.03), 2);
  assert.equal(chooseContextWeight(kit, 0.005, 0.02), 1, "W 1 costs the others 2.35 points");
  assert.equal(chooseContextWeight(kit, 0.03, 0.03), 0);
});

test("chooseImageContextWeight: the image score's W guards only the other anomalies' image AUROC, not their AUPRO", () => {
  const p = (weight: number, swaps: number, image: number, aupro: number) => ({ weight, swaps_auroc: swaps, image_auroc: image, pixel_auroc: null, aupro });
  // The kit with its swaps filtered to odd parts (lafite, fit seed 1): swaps 77.4 / 94.7 / 100, others' image AUROC 100 throughout, AUPRO 94.6 / 93.6 / 85.7.
  const kit = [p(0, 0.774, 1, 0.946), p(0.5, 0.947, 1, 0.936), p(1, 1, 1, 0.857)];
  assert.equal(chooseContextWeight(kit, 0.005, 0.03), 1, "the heatmap's W: W 1 costs the others' mean 4.45 points");
  assert.equal(chooseImageContextWeight(kit, 0.005, 0.03), 2);
  // Where W 1 costs the others' image AUROC more than the tolerance, the image score keeps 0.5 too.
  const costly = [p(0, 0.774, 1, 0.946), p(0.5, 0.947, 0.98, 0.936), p(1, 1, 0.96, 0.857)];
  assert.equal(chooseImageContextWeight(costly, 0.005, 0.03), 1);
  // Without other anomalies (image AUROC null) the swaps decide, as for the heatmap.
  assert.equal(chooseImageContextWeight([{ ...kit[0]!, image_auroc: null }, { ...kit[2]!, image_auroc: null }], 0.005, 0.03), 1);
});

test("the sweep names the classes a context W reaches and prices each W on them: frames of another class that read as kit", async () => {
  const m = await makeModel(3);
  const rng = createRng(33);
  // "twin": another product whose frames look like kit's, so they read as kit and take its W; its anomalies are kit-like bumps.
  const twin = kitLikeFrames(rng, "twin", 6, 3);
  const r = await tune({ ...m, set: [...m.set, ...twin] }, [0, 0.5, 1]);
  const kit = r.contextRecord!.classes["kit"]!;
  assert.deepEqual(kit.reached, ["twin"]);
  assert.deepEqual([kit.curve[0]!.reached_cost, kit.curve[0]!.reached_image_cost], [0, 0]);
  assert.ok(kit.curve.every((p) => p.reached_cost! >= 0 && p.reached_image_cost! >= 0));
  assert.equal(kit.chosen, [0, 0.5, 1][chooseContextWeight(kit.curve, 0.03, 0.03)]);
  // Without the twin, kit reaches no other class: no names, no costs.
  const alone = (await tune(m, [0, 0.5, 1])).contextRecord!.classes["kit"]!;
  assert.equal(alone.reached, undefined);
  assert.ok(alone.curve.every((p) => p.reached_cost === undefined));
});

test("a context W may not cost a class it reaches more than the tolerance either: the heatmap's by the mean of image AUROC and AUPRO, the image score's by image AUROC", () => {
  const p = (weight: number, swaps: number, reachedCost?: number, reachedImageCost?: number) => ({ weight, swaps_auroc: swaps, image_auroc: 1, pixel_auroc: null, aupro: 1, ...(reachedCost !== undefined ? { reached_cost: reachedCost } : {}), ...(reachedImageCost !== undefined ? { reached_image_cost: reachedImageCost } : {}) });
  // The realistic suite's kit at W 1 reaching the assembly's frames: its pseudo-validation image AUROC 100 -> 97.2, AUPRO 97.0 -> 91.8 (mean cost 4.0).
  const kit = [p(0, 0.709, 0, 0), p(0.5, 0.997, 0.01, 0.005), p(1, 1, 0.04, 0.028)];
  assert.equal(chooseContextWeight(kit, 0.005, 0.03), 1);
  assert.equal(chooseImageContextWeight(kit, 0.005, 0.03), 2, "the image score's guard: 2.8 points of image AUROC are within the tolerance");
  assert.equal(chooseImageContextWeight([kit[0]!, kit[1]!, { ...kit[2]!, reached_image_cost: 0.031 }], 0.005, 0.03), 1);
  // Exactly the tolerance is allowed; a curve without reached classes is as before.
  assert.equal(chooseContextWeight([kit[0]!, kit[1]!, { ...kit[2]!, reached_cost: 0.03 }], 0.005, 0.03), 2);
  assert.equal(chooseContextWeight([p(0, 0.709), p(0.5, 0.997), p(1, 1)], 0.005, 0.03), 2);
});

test("reachedClasses: the other classes with a frame the weight reaches, with all their frames, when they have normals and anomalies; reachedCosts: the worst of them over W 0, by hand", () => {
  const set = [
    { cls: "kit", anomalous: false }, { cls: "kit", anomalous: true },
    { cls: "assembly", anomalous: false }, { cls: "assembly", anomalous: true }, { cls: "assembly", anomalous: false },
    { cls: "nut", anomalous: false }, { cls: "nut", anomalous: true },
    { cls: "glass", anomalous: false },
  ];
  // Frames 0, 1 (its own), 4 (an assembly normal), 6 (a nut anomaly) and 7 (glass, normals only) get kit's W.
  const gets = (i: number) => [0, 1, 4, 6, 7].includes(i);
  assert.deepEqual(reachedClasses(set, "kit", gets), [{ cls: "assembly", members: [2, 3, 4] }, { cls: "nut", members: [5, 6] }]);
  assert.deepEqual(reachedClasses(set, "kit", (i) => i < 2), []);
  const q = (image: number, aupro: number) => ({ weight: 0, image_auroc: image, pixel_auroc: null, aupro });
  // assembly: mean 0.985 -> 0.945 (cost 0.04), image cost 0.028; nut: mean 0.9 -> 0.92 (a gain), image 0.9 -> 0.85 (cost 0.05).
  const costs = reachedCosts([q(1, 0.97), q(0.9, 0.9)], [q(0.972, 0.918), q(0.85, 0.99)]);
  assert.ok(Math.abs(costs.reached_cost - 0.04) < 1e-12 && Math.abs(costs.reached_image_cost - 0.05) < 1e-12, JSON.stringify(costs));
  assert.deepEqual(reachedCosts([q(1, 1)], [q(1, 1)]), { reached_cost: 0, reached_image_cost: 0 });
});

test("a class whose image score has its own context W: the scorer's heatmap is the heatmap W's, its score the image W's; the sweep's scores are the served ones", async () => {
  const m = await makeModel(2);
  const tuned = (await tune(m, [0, 1])).context!;
  // Kept weights (a re-measure): the heatmap without context, the image score at W 1.
  const r = await tuneDetailWeight({ set: m.set, parts: m.parts, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: [0, 2], weights: [0], context: { lambda: LAMBDA, weights: [0], margin: 0, tolerance: 0, minSwaps: 0, swaps: [], classWeights: { kit: 0 }, imageClassWeights: { kit: 1 } }, sessionOptions: {} });
  assert.deepEqual(r.context!.classWeights, { kit: 0 });
  assert.deepEqual(r.context!.imageClassWeights, { kit: 1 });
  const at = (classWeights: Record<string, number>) => ({ ...settings, detail: r.detail, context: { ...r.context!, classWeights, imageClassWeights: undefined } });
  for (const { mode, scores } of r.scored) {
    const split = await openScorer(mode, m.parts, { ...settings, detail: r.detail, context: r.context! }, {});
    const heat = await openScorer(mode, m.parts, at({ kit: 0 }), {});
    const image = await openScorer(mode, m.parts, at({ kit: 1 }), {});
    try {
      const served = (await scorePseudoSet(m.set, split.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
      let moved = 0;
      for (const f of [m.set[0]!, m.set[11]!, m.set[14]!]) {
        const s = await split.scorer.score(f.x);
        const h = await heat.scorer.score(f.x);
        assert.deepEqual(s.map, h.map);
        assert.equal(s.score, (await image.scorer.score(f.x)).score);
        if (s.score !== h.score) moved++;
      }
      assert.equal(moved, 2, "the kit frames' scores are not the heatmap's; the texture's is");
      const kit = await split.scorer.positionScores(m.set[0]!.x, seedOfFeatures(m.set[0]!.x));
      assert.equal(kit.contextWeight, 0);
      assert.equal(kit.imageContextWeight, 1);
      // A texture frame gets no context either way, and one set of scores.
      const tex = await split.scorer.positionScores(m.set[14]!.x, seedOfFeatures(m.set[14]!.x));
      assert.equal(tex.contextWeight, 0);
      assert.equal(tex.imageValues, undefined);
    } finally {
      await Promise.all([split.release(), heat.release(), image.release()]);
    }
  }
  // The normalizers are the tuned ones: keeping weights re-measures them over the same set.
  assert.deepEqual(r.context!.normalizers, tuned.normalizers);
});

test("detail and context weights both split between heatmap and image score: the heatmap blends each at its heatmap W, the score at its image W; the sweep's scores are the served ones", async () => {
  const m = await makeModel(4);
  const detail = { weights: [0], classWeights: { kit: 0.5, tex: 0 }, imageClassWeights: { kit: 0 } };
  const context = { lambda: LAMBDA, weights: [0], margin: 0, tolerance: 0, minSwaps: 0, swaps: [], classWeights: { kit: 0.5 }, imageClassWeights: { kit: 1 } };
  const r = await tuneDetailWeight({ set: m.set, parts: m.parts, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: [0, 2], ...detail, context, sessionOptions: {} });
  assert.deepEqual([r.detail.classWeights, r.detail.imageClassWeights], [detail.classWeights, detail.imageClassWeights]);
  // The image scores and the context's normalizers are those of a model whose heatmap has no detail W either: the heatmap's W moves no score.
  const imageOnly = await tuneDetailWeight({ set: m.set, parts: m.parts, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: [0, 2], weights: [0], classWeights: { kit: 0, tex: 0 }, context, sessionOptions: {} });
  assert.deepEqual(r.context!.normalizers, imageOnly.context!.normalizers);
  assert.deepEqual(r.scored, imageOnly.scored);
  const only = (d: Record<string, number>, cx: Record<string, number>) => ({ ...settings, detail: { ...r.detail, classWeights: d, imageClassWeights: undefined }, context: { ...r.context!, classWeights: cx, imageClassWeights: undefined } });
  for (const { mode, scores } of r.scored) {
    const split = await openScorer(mode, m.parts, { ...settings, detail: r.detail, context: r.context! }, {});
    const heat = await openScorer(mode, m.parts, only({ kit: 0.5, tex: 0 }, { kit: 0.5 }), {});
    const image = await openScorer(mode, m.parts, only({ kit: 0, tex: 0 }, { kit: 1 }), {});
    try {
      const served = (await scorePseudoSet(m.set, split.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
      for (const f of [m.set[0]!, m.set[11]!, m.set[14]!]) {
        const s = await split.scorer.score(f.x);
        assert.deepEqual(s.map, (await heat.scorer.score(f.x)).map);
        assert.equal(s.score, (await image.scorer.score(f.x)).score);
      }
      const kit = await split.scorer.positionScores(m.set[0]!.x, seedOfFeatures(m.set[0]!.x));
      assert.deepEqual([kit.weight, kit.imageWeight, kit.contextWeight, kit.imageContextWeight], [0.5, 0, 0.5, 1]);
    } finally {
      await Promise.all([split.release(), heat.release(), image.release()]);
    }
  }
});

test("chooseContextWeight: swaps tied at the top are told apart by how far they stand from the normals, then by the smaller W", () => {
  const p = (weight: number, swaps: number, separation: number | null, aupro = 0.94) => ({ weight, swaps_auroc: swaps, swaps_separation: separation, image_auroc: 1, pixel_auroc: null, aupro });
  // The kit of a fit whose swaps saturate (lafite, fit seed 0): 80.9 / 100 / 100, separation 1.9 / 5.9 / 13.6 normal sds.
  const saturated = [p(0, 0.809, 1.9), p(0.5, 1, 5.9, 0.938), p(1, 1, 13.6, 0.906)];
  assert.equal(chooseContextWeight(saturated, 0.005, 0.03), 2);
  assert.equal(chooseImageContextWeight(saturated, 0.005, 0.03), 2);
  // Nearer: the smaller W keeps it; unknown separations (bundles from before it) tie, and the smaller W keeps it.
  assert.equal(chooseContextWeight([p(0, 0.809, 1.1), p(0.5, 1, 6.3), p(1, 1, 4.2)], 0.005, 0.03), 1);
  assert.equal(chooseContextWeight([p(0, 0.809, null), p(0.5, 1, null), p(1, 1, null)], 0.005, 0.03), 1);
  // A higher AUROC still wins over a larger separation.
  assert.equal(chooseContextWeight([p(0, 0.809, 1.1), p(0.5, 1, 3), p(1, 0.99, 9)], 0.005, 0.03), 1);
});
