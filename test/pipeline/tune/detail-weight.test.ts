/**
 * The detail bank's weight, chosen on the pseudo-validation set, and the
 * scorer that serves it: the sweep's in-memory blend must be exactly what a
 * scorer opened with the chosen detail settings gives, and the detail search
 * must be the nearest row over the detail channels (checked by brute force).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { detailTuneWork, remeasureDetail, tuneDetailWeight } from "../../../src/pipeline/tune/detail-weight.js";
import { bestByRegions, leastWithinTie, meanPoint, WEIGHT_AUPRO_TIE } from "../../../src/pipeline/tune/class-point.js";
import { contextReach } from "../../../src/pipeline/tune/context-weight.js";
import type { PseudoFeature } from "../../../src/pipeline/tune/pseudo-features.js";
import { scorePseudoSet } from "../../../src/pipeline/tune/score-set.js";
import { openScorer } from "../../../src/pipeline/open-scorer.js";
import { seedOfFeatures } from "../../../src/pipeline/frame-scorer.js";
import { createRng } from "../../../src/util/random.js";
import { LafiteError } from "../../../src/util/errors.js";
import { UNTAGGED } from "../../../src/model/memory/row-classes.js";
import type { ChannelRange } from "../../../src/model/scoring/detail-bank.js";

// Channels 0–2 are the "fine" stage (the detail bank's), 3–5 the "coarse" one.
const c = 6, h = 4, w = 4, S = 16, hw = h * w;
const detailChannels: ChannelRange = [0, 3];
const settings = { mapSize: S, sigma: 1, pool: 2, imageScore: "top" as const, top: 0.05, k: 1, tau: 20, deltaT: 20, eta: 0 };

/** Fine channels quiet (σ 0.1) and coarse ones loud (σ `coarseNoise`); an anomaly shifts one position by `fine` in channels 0–2 and `coarse` in 3–5. */
function makeSet(seed: number, coarseNoise: number, anomaly: { fine: number; coarse: number }): { set: PseudoFeature[]; coreset: Float32Array; coresetSize: number } {
  const rng = createRng(seed);
  const map = () => {
    const data = new Float32Array(c * hw);
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) data[ch * hw + p] = rng.normal() * (ch < 3 ? 0.1 : coarseNoise);
    return data;
  };
  const set: PseudoFeature[] = [];
  for (const cls of ["a", "b"]) {
    for (let i = 0; i < 12; i++) {
      const anomalous = i % 2 === 1;
      const data = map();
      const mask = new Uint8Array(S * S);
      if (anomalous) {
        const p = 5 + (i % 3);
        for (let ch = 0; ch < c; ch++) data[ch * hw + p] = data[ch * hw + p]! + (ch < 3 ? anomaly.fine : anomaly.coarse);
        const [py, px] = [Math.floor(p / w), p % w];
        for (let y = py * 4; y < py * 4 + 4; y++) for (let x = px * 4; x < px * 4 + 4; x++) mask[y * S + x] = 1;
      }
      set.push({ cls, anomalous, x: { c, h, w, data }, ...(anomalous ? { mask } : {}) });
    }
  }
  // The bank: rows drawn like normal positions (position-major rows of c values).
  const coresetSize = 60;
  const coreset = new Float32Array(coresetSize * c);
  for (let r = 0; r < coresetSize; r++) for (let ch = 0; ch < c; ch++) coreset[r * c + ch] = rng.normal() * (ch < 3 ? 0.1 : coarseNoise);
  return { set, coreset, coresetSize };
}

const tune = (set: PseudoFeature[], coreset: Float32Array, coresetSize: number, weights: number[]) =>
  tuneDetailWeight({ set, parts: { coreset, coresetSize, c }, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: detailChannels, weights, sessionOptions: {} });

test("tuneDetailWeight weighs the detail bank in where the anomalies live in the fine channels, and leaves it out where they do not", async () => {
  // Hidden in the coarse channels' noise, plain in the fine ones: the detail bank finds them.
  const fine = makeSet(3, 1.5, { fine: 1, coarse: 0 });
  const helped = await tune(fine.set, fine.coreset, fine.coresetSize, [0, 0.5, 1]);
  const curve = helped.record!.curve;
  assert.deepEqual(curve.map((p) => p.weight), [0, 0.5, 1]);
  assert.ok(curve[2]!.image_auroc! > curve[0]!.image_auroc! + 0.2, `detail alone ${curve[2]!.image_auroc} against main ${curve[0]!.image_auroc}`);
  assert.notEqual(helped.detail.weight, 0);
  assert.equal(helped.detail.weight, helped.record!.chosen);

  // Only in the coarse channels (a "logical" anomaly): the fine channels see nothing, and W = 0 is kept.
  const coarse = makeSet(4, 0.1, { fine: 0, coarse: 5 });
  const kept = await tune(coarse.set, coarse.coreset, coarse.coresetSize, [0, 1]);
  assert.equal(kept.record!.curve[0]!.image_auroc, 1);
  assert.ok(kept.record!.curve[1]!.image_auroc! < 0.8, `detail alone ${kept.record!.curve[1]!.image_auroc}`);
  assert.equal(kept.detail.weight, 0);
  // A single weight is no sweep: no record, that weight served.
  const fixed = await tune(coarse.set, coarse.coreset, coarse.coresetSize, [0.33]);
  assert.equal(fixed.record, undefined);
  assert.equal(fixed.detail.weight, 0.33);
});

test("no-edit is left out: it gets no normalizer and no blended scores (it stays the diffusion model alone, and is never scored here)", async () => {
  const { set, coreset, coresetSize } = makeSet(7, 1.5, { fine: 1, coarse: 0 });
  // A bank without a U-Net: were no-edit scored, opening it would fail.
  const r = await tuneDetailWeight({ set, parts: { coreset, coresetSize, c }, settings, modes: ["knn", "edit-only", "no-edit"], servedMode: "knn", stages: ["fine"], channels: detailChannels, weights: [0.5], sessionOptions: {} });
  assert.deepEqual(r.scored.map((s) => s.mode), ["knn", "edit-only"]);
  assert.deepEqual(Object.keys(r.detail.normalizers!.main), ["knn", "edit-only"]);
  await assert.rejects(
    tuneDetailWeight({ set, parts: { coreset, coresetSize, c }, settings, modes: ["knn", "no-edit"], servedMode: "no-edit", stages: ["fine"], channels: detailChannels, weights: [0.5], sessionOptions: {} }),
    /served mode no-edit is not among the detail bank's modes/,
  );
});

test("the sweep's scores at the chosen weight are what a scorer opened with the chosen detail settings gives, in every mode", async () => {
  const { set, coreset, coresetSize } = makeSet(5, 1.5, { fine: 1, coarse: 0.5 });
  const r = await tune(set, coreset, coresetSize, [0.4]);
  assert.deepEqual(r.scored.map((s) => s.mode), ["knn", "edit-only"]);
  // Each normalizer is the normals' own: means differ by mode, the detail one is shared.
  assert.ok(r.detail.normalizers!.main.knn!.mean !== r.detail.normalizers!.main["edit-only"]!.mean);
  for (const { mode, scores } of r.scored) {
    const opened = await openScorer(mode, { coreset, coresetSize, c }, { ...settings, detail: r.detail }, {});
    try {
      const served = (await scorePseudoSet(set, opened.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
    } finally {
      await opened.release();
    }
  }
});

test("the detail search is the nearest bank row over the detail channels (brute force), and a mode without a normalizer is refused", async () => {
  const { set, coreset, coresetSize } = makeSet(6, 1, { fine: 1, coarse: 1 });
  // W = 1 with unit normalizers: the blended scores are the detail distances themselves.
  const unit = { mean: 0, sd: 1 };
  const detail = { stages: ["fine"], channels: detailChannels, weight: 1, normalizers: { detail: unit, main: { knn: unit } } };
  const opened = await openScorer("knn", { coreset, coresetSize, c }, { ...settings, detail }, {});
  try {
    for (const f of set.slice(0, 4)) {
      const got = (await opened.scorer.positionScores(f.x, seedOfFeatures(f.x))).values;
      for (let p = 0; p < hw; p++) {
        let best = Infinity;
        for (let r = 0; r < coresetSize; r++) {
          let d = 0;
          for (let ch = 0; ch < 3; ch++) d += (f.x.data[ch * hw + p]! - coreset[r * c + ch]!) ** 2;
          best = Math.min(best, d);
        }
        assert.ok(Math.abs(got[p]! - Math.sqrt(best)) < 1e-4, `position ${p}: ${got[p]} vs ${Math.sqrt(best)}`);
      }
    }
  } finally {
    await opened.release();
  }
  await assert.rejects(openScorer("edit-only", { coreset, coresetSize, c }, { ...settings, detail }, {}), (e: unknown) => e instanceof LafiteError && /no normalizer for mode 'edit-only'/.test(e.message));
  // Weight 0: the detail bank is not even opened, so no normalizer is needed.
  const off = await openScorer("edit-only", { coreset, coresetSize, c }, { ...settings, detail: { ...detail, weight: 0, normalizers: undefined } }, {});
  await off.release();
});

/**
 * Two classes a unified bank tells apart by their coarse channels' level (+4
 * against −4): a's anomalies live in the fine channels (hidden in its loud
 * coarse ones), b's only in the coarse ones (a "logical" anomaly the fine
 * channels cannot see). The bank holds rows of both, each with its class.
 */
function makeTwoClassSet(seed: number): { set: PseudoFeature[]; coreset: Float32Array; coresetSize: number; rowClasses: { classes: Int32Array; names: string[] } } {
  const rng = createRng(seed);
  const spec = { a: { level: 4, coarseNoise: 1.5, fine: 1, coarse: 0 }, b: { level: -4, coarseNoise: 0.1, fine: 0, coarse: 5 } };
  const draw = (cls: "a" | "b", into: Float32Array, at: (ch: number) => number) => {
    for (let ch = 0; ch < c; ch++) into[at(ch)] = ch < 3 ? rng.normal() * 0.1 : spec[cls].level + rng.normal() * spec[cls].coarseNoise;
  };
  const set: PseudoFeature[] = [];
  for (const cls of ["a", "b"] as const) {
    for (let i = 0; i < 16; i++) {
      const anomalous = i % 2 === 1;
      const data = new Float32Array(c * hw);
      for (let p = 0; p < hw; p++) draw(cls, data, (ch) => ch * hw + p);
      const mask = new Uint8Array(S * S);
      if (anomalous) {
        const p = 5 + (i % 3);
        for (let ch = 0; ch < c; ch++) data[ch * hw + p] = data[ch * hw + p]! + (ch < 3 ? spec[cls].fine : spec[cls].coarse);
        const [py, px] = [Math.floor(p / w), p % w];
        for (let y = py * 4; y < py * 4 + 4; y++) for (let x = px * 4; x < px * 4 + 4; x++) mask[y * S + x] = 1;
      }
      set.push({ cls, anomalous, x: { c, h, w, data }, ...(anomalous ? { mask } : {}) });
    }
  }
  const coresetSize = 80;
  const coreset = new Float32Array(coresetSize * c);
  const classes = new Int32Array(coresetSize);
  for (let r = 0; r < coresetSize; r++) {
    classes[r] = r % 2;
    draw(r % 2 === 0 ? "a" : "b", coreset, (ch) => r * c + ch);
  }
  return { set, coreset, coresetSize, rowClasses: { classes, names: ["a", "b"] } };
}

test("per class: W above 0 for the class whose anomalies are fine, 0 for the logical one; served frames get their class's W and the sweep's scores", async () => {
  const { set, coreset, coresetSize, rowClasses } = makeTwoClassSet(11);
  const parts = { coreset, coresetSize, c, rowClasses };
  const r = await tuneDetailWeight({ set, parts, settings, modes: ["knn", "edit-only"], servedMode: "knn", stages: ["fine"], channels: detailChannels, weights: [0, 0.5, 1], perClass: true, sessionOptions: {} });
  const classes = r.record!.classes!;
  assert.deepEqual(Object.keys(classes), ["a", "b"]);
  assert.ok(classes.a!.chosen > 0, `a chose W ${classes.a!.chosen}`);
  assert.equal(classes.b!.chosen, 0);
  // AUPRO leads each class's choice: a's rises with W, b's falls.
  const aupro = (cls: string) => classes[cls]!.curve.map((p) => p.aupro!);
  assert.ok(aupro("a")[2]! > aupro("a")[0]!, `a: ${aupro("a")}`);
  assert.ok(aupro("b")[2]! < aupro("b")[0]!, `b: ${aupro("b")}`);
  const classWeights: Readonly<Record<string, number>> = r.detail.classWeights!;
  assert.deepEqual({ ...classWeights }, { a: classes.a!.chosen, b: 0 });
  // Served: each frame is read as its own class by its nearest rows, gets that class's W, and scores as the sweep said.
  for (const { mode, scores } of r.scored) {
    const opened = await openScorer(mode, parts, { ...settings, detail: r.detail }, {});
    try {
      for (const [i, f] of set.entries()) {
        const pos = await opened.scorer.positionScores(f.x, seedOfFeatures(f.x));
        assert.equal(pos.weight, classWeights[f.cls], `${mode} ${f.cls}[${i}]`);
        // Judged as the other class (a class tag): that class's W, while the frame still reads as its own.
        const other = f.cls === "a" ? "b" : "a";
        const judged = await opened.scorer.positionScores(f.x, seedOfFeatures(f.x), opened.scorer.classIndex(other));
        assert.deepEqual([judged.weight, judged.frameClass, judged.judgedClass], [classWeights[other], rowClasses.names.indexOf(f.cls), rowClasses.names.indexOf(other)], `${mode} ${f.cls}[${i}] as ${other}`);
        const scored = await opened.scorer.score(f.x, other);
        assert.deepEqual([scored.class, scored.judgedAs], [f.cls, other]);
        // An unknown tag is no class: the frame is judged as it reads.
        assert.deepEqual([(await opened.scorer.score(f.x, "bolt")).judgedAs, opened.scorer.classIndex("bolt")], [f.cls, -1]);
      }
      assert.deepEqual(opened.scorer.classNames, ["a", "b"]);
      const served = (await scorePseudoSet(set, opened.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
    } finally {
      await opened.release();
    }
  }
  // Without row classes, or not asked: one W, no per-class record.
  const one = await tuneDetailWeight({ set, parts: { coreset, coresetSize, c }, settings, modes: ["knn"], servedMode: "knn", stages: ["fine"], channels: detailChannels, weights: [0, 0.5, 1], perClass: true, sessionOptions: {} });
  assert.equal(one.record!.classes, undefined);
  assert.equal(one.detail.classWeights, undefined);
  const off = await tuneDetailWeight({ set, parts, settings, modes: ["knn"], servedMode: "knn", stages: ["fine"], channels: detailChannels, weights: [0, 0.5, 1], sessionOptions: {} });
  assert.equal(off.detail.classWeights, undefined);
});

/** `n` samples of class a that the coarse stage sees and the fine one does not (one position shifted in channels 3–5 only): a class whose set says "detail" and whose extra samples say "coarse". */
function coarseOfA(seed: number, n: number): PseudoFeature[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, i) => {
    const data = new Float32Array(c * hw);
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) data[ch * hw + p] = ch < 3 ? rng.normal() * 0.1 : 4 + rng.normal() * 1.5;
    const p = 5 + (i % 6);
    for (let ch = 3; ch < c; ch++) data[ch * hw + p] = data[ch * hw + p]! + 8;
    const mask = new Uint8Array(S * S);
    const [py, px] = [Math.floor(p / w), p % w];
    for (let y = py * 4; y < py * 4 + 4; y++) for (let x = px * 4; x < px * 4 + 4; x++) mask[y * S + x] = 1;
    return { cls: "a", anomalous: true, x: { c, h, w, data }, mask };
  });
}

test("warped edges count as much as the set in a class's W: the mean of both curves, where the class has enough of them; nothing else moves", async () => {
  const { set, coreset, coresetSize, rowClasses } = makeTwoClassSet(11);
  const parts = { coreset, coresetSize, c, rowClasses };
  // Two weights far apart: the set alone prefers W 1 by more than a tie (WEIGHT_AUPRO_TIE), which W 0.5 would be.
  const base = { set, parts, settings, stages: ["fine"], channels: detailChannels, weights: [0, 1], perClass: true, sessionOptions: {} };
  const modes: ("knn" | "edit-only")[] = ["knn", "edit-only"];
  const without = await tuneDetailWeight({ ...base, modes, servedMode: "knn" });
  const samples = coarseOfA(5, 8);
  let ticks = 0;
  const withWarps = await tuneDetailWeight({ ...base, modes, servedMode: "knn", warps: { samples, min: 8 }, onScored: () => ticks++ });
  const a = withWarps.record!.classes!.a!;
  // b has none: its sweep is the set's alone.
  assert.deepEqual(withWarps.record!.classes!.b, without.record!.classes!.b);
  // a's set curve is the one it had; its curve is the figure-by-figure mean with its normals against the extra samples.
  assert.deepEqual(a.set, without.record!.classes!.a!.curve);
  assert.equal(a.warps!.length, 2);
  a.curve.forEach((p, j) => {
    for (const key of ["image_auroc", "pixel_auroc", "aupro"] as const) assert.ok(Math.abs(p[key]! - (a.set![j]![key]! + a.warps![j]![key]!) / 2) < 1e-12, `W ${p.weight} ${key}`);
  });
  // The set alone weighs the detail bank in for a; the extra samples, which only the coarse stage sees, pull it back.
  assert.ok(without.record!.classes!.a!.chosen > 0);
  assert.ok(a.warps![1]!.aupro! < a.warps![0]!.aupro!, `extra samples' AUPRO ${a.warps!.map((p) => p.aupro)}`);
  assert.equal(a.chosen, base.weights[leastWithinTie(a.curve, WEIGHT_AUPRO_TIE)]);
  assert.ok(a.chosen < without.record!.classes!.a!.chosen, `a chose W ${a.chosen}: ${JSON.stringify(a)}`);
  assert.deepEqual({ ...withWarps.detail.classWeights }, { a: a.chosen, b: 0 });
  // The image score keeps the set's W: the extra samples move the heatmap, never a score or a verdict.
  assert.equal(a.imageChosen, without.record!.classes!.a!.chosen);
  assert.deepEqual({ ...withWarps.detail.imageClassWeights }, { a: a.imageChosen });
  assert.deepEqual(withWarps.scored, without.scored);
  // Served: the heatmap at the heatmap's W, the image score at the set's, and the scores the sweep gave.
  for (const { mode, scores } of withWarps.scored) {
    const opened = await openScorer(mode, parts, { ...settings, detail: withWarps.detail }, {});
    const plain = await openScorer(mode, parts, { ...settings, detail: { ...withWarps.detail, classWeights: { a: a.imageChosen!, b: 0 }, imageClassWeights: undefined } }, {});
    const heat = await openScorer(mode, parts, { ...settings, detail: { ...withWarps.detail, imageClassWeights: undefined } }, {});
    try {
      for (const [i, f] of set.entries()) {
        const pos = await opened.scorer.positionScores(f.x, seedOfFeatures(f.x));
        assert.equal(pos.weight, withWarps.detail.classWeights![f.cls], `${mode} ${f.cls}[${i}]`);
        assert.equal(pos.imageWeight, f.cls === "a" ? a.imageChosen : undefined);
        const both = await opened.scorer.score(f.x);
        assert.deepEqual(both.map, (await heat.scorer.score(f.x)).map, "the heatmap is the heatmap W's");
        assert.equal(both.score, (await plain.scorer.score(f.x)).score, "the score is the set's W's");
      }
      const served = (await scorePseudoSet(set, opened.scorer)).scores;
      served.forEach((v, i) => assert.ok(Math.abs(v - scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v)), `${mode} [${i}]: served ${v}, sweep ${scores[i]}`));
    } finally {
      await Promise.all([opened.release(), plain.release(), heat.release()]);
    }
  }
  // A re-measure keeps both.
  const again = await remeasureDetail(set, parts, { ...settings, detail: withWarps.detail }, [...modes], "knn", {});
  assert.deepEqual([again!.detail.classWeights, again!.detail.imageClassWeights], [withWarps.detail.classWeights, withWarps.detail.imageClassWeights]);
  assert.deepEqual(again!.scored, withWarps.scored);
  // They are not normals: the normalizers, the model's W and its curve are the set's.
  assert.deepEqual(withWarps.detail.normalizers, without.detail.normalizers);
  assert.deepEqual([withWarps.record!.curve, withWarps.record!.chosen], [without.record!.curve, without.record!.chosen]);
  assert.ok(withWarps.scored.every((m) => m.scores.length === set.length));
  // Two scorings each (main and detail bank), counted in the work.
  assert.equal(ticks, detailTuneWork(set.length, modes, -1, samples.length));
  // Fewer than `min`: the set alone, as before.
  const few = await tuneDetailWeight({ ...base, modes, servedMode: "knn", warps: { samples, min: 9 } });
  assert.deepEqual(few.record, without.record);
  assert.deepEqual(few.detail, without.detail);
});

test("contextReach: the classes the context bank holds, and those with a frame giving one of them a fifth of its votes", () => {
  const names = ["assembly", "kit", "nut", "glass"];
  const set = [{ cls: "assembly" }, { cls: "assembly" }, { cls: "nut" }, { cls: "glass" }, { cls: "kit" }];
  // Votes by class index: the second assembly frame gives kit 2 of 10 (a fifth), the nut frame 1 of 10, glass none at all.
  const votes = [[9, 1, 0, 0], [8, 2, 0, 0], [0, 1, 9, 0], [0, 0, 0, 0], [0, 10, 0, 0]].map((v) => ({ classVotes: Int32Array.from(v) }));
  assert.deepEqual([...contextReach(set, votes, Int32Array.from([1, 1, 1]), names)].sort(), ["assembly", "kit"]);
  assert.deepEqual([...contextReach(set, votes, undefined, names)], []);
  assert.deepEqual([...contextReach(set, [{}, {}, {}, {}, {}], Int32Array.from([1]), names)], ["kit"]);
});

test("meanPoint averages two sweep points figure by figure; a figure one lacks is the other's", () => {
  const p = (aupro: number | null, image: number | null, pixel: number | null) => ({ weight: 0.5, aupro, image_auroc: image, pixel_auroc: pixel });
  assert.deepEqual(meanPoint(p(0.9, 0.8, 0.7), p(0.5, 0.6, 0.9)), { weight: 0.5, aupro: 0.7, image_auroc: 0.7, pixel_auroc: 0.8 });
  assert.deepEqual(meanPoint(p(null, 0.8, null), p(0.5, null, null)), { weight: 0.5, aupro: 0.5, image_auroc: 0.8, pixel_auroc: null });
});

test("a re-measure keeps the per-class weights it is given and scores each frame at its class's", async () => {
  const { set, coreset, coresetSize, rowClasses } = makeTwoClassSet(12);
  const parts = { coreset, coresetSize, c, rowClasses };
  const detail = { stages: ["fine"], channels: detailChannels, weight: 0, classWeights: { a: 0.5 } };
  const r = await remeasureDetail(set, parts, { ...settings, detail }, ["knn"], "knn", {});
  assert.ok(r, "a class with W above 0 keeps the detail bank in use though the model's W is 0");
  assert.deepEqual(r!.detail.classWeights, { a: 0.5 });
  assert.equal(r!.detail.weight, 0);
  const opened = await openScorer("knn", parts, { ...settings, detail: r!.detail }, {});
  try {
    const served = (await scorePseudoSet(set, opened.scorer)).scores;
    served.forEach((v, i) => assert.ok(Math.abs(v - r!.scored[0]!.scores[i]!) <= 1e-5 * Math.max(1, Math.abs(v))));
    // b has no W of its own: the model's, 0, so its frames are not blended at all.
    const b = set.find((f) => f.cls === "b")!;
    assert.equal((await opened.scorer.positionScores(b.x, 0)).weight, 0);
  } finally {
    await opened.release();
  }
});

test("bestByRegions: AUPRO first, then image AUROC, then pixel AUROC, the earliest on ties", () => {
  const p = (aupro: number | null, image: number | null, pixel: number | null) => ({ weight: 0, aupro, image_auroc: image, pixel_auroc: pixel });
  assert.equal(bestByRegions([p(0.7, 0.9, 0.9), p(0.8, 0.5, 0.5)]), 1);
  assert.equal(bestByRegions([p(0.8, 0.9, 0.5), p(0.8, 0.8, 0.9)]), 0);
  assert.equal(bestByRegions([p(0.8, 0.9, 0.5), p(0.8, 0.9, 0.6)]), 1);
  assert.equal(bestByRegions([p(0.8, 0.9, 0.6), p(0.8, 0.9, 0.6)]), 0);
  assert.equal(bestByRegions([p(null, 1, 1), p(0.1, 0, 0)]), 1);
});

test("leastWithinTie: the earliest weight within the tie of the best AUPRO, never one after the best (by hand)", () => {
  const p = (aupro: number | null, image: number | null = 0.5) => ({ weight: 0, aupro, image_auroc: image, pixel_auroc: 0.5 });
  // The dyed cloth's seed-1 curve: 0.271 at W 0.67 is within 0.005 of the best 0.274 (W 1, then 0.85 tied on AUPRO).
  const cloth = [0.259, 0.261, 0.263, 0.265, 0.271, 0.274, 0.274].map((v) => p(v));
  assert.equal(bestByRegions(cloth), 5);
  assert.equal(leastWithinTie(cloth, WEIGHT_AUPRO_TIE), 4);
  assert.equal(leastWithinTie(cloth, 0.01), 3, "0.265 is the first ≥ 0.274 − 0.01");
  assert.equal(leastWithinTie(cloth, 0), 5, "no tie: the best");
  // A later point within the tie is not taken: only weights before the best.
  assert.equal(leastWithinTie([p(0.3), p(0.5), p(0.498)], WEIGHT_AUPRO_TIE), 1);
  // Without AUPRO anywhere: bestByRegions' choice (image AUROC).
  assert.equal(leastWithinTie([p(null, 0.6), p(null, 0.9)], WEIGHT_AUPRO_TIE), 1);
  // A point without AUPRO before the best is never within the tie.
  assert.equal(leastWithinTie([p(null), p(0.7), p(0.702)], WEIGHT_AUPRO_TIE), 1);
});

test("rows a refresh added from untagged frames name no class: no frame is judged as (untagged), and it is not among the classes a tag can name", async () => {
  const { coreset, coresetSize, rowClasses } = makeTwoClassSet(13);
  // The last row relabelled as untagged, as a lifecycle refresh records such rows.
  const classes = Int32Array.from(rowClasses.classes, (cls, r) => (r === coresetSize - 1 ? 2 : cls));
  const opened = await openScorer("knn", { coreset, coresetSize, c, rowClasses: { classes, names: [...rowClasses.names, UNTAGGED] } }, settings, {});
  try {
    assert.deepEqual(opened.scorer.classNames, ["a", "b"]);
    assert.equal(opened.scorer.classIndex(UNTAGGED), -1);
    assert.equal(opened.scorer.classIndex("b"), 1);
  } finally {
    await opened.release();
  }
});
