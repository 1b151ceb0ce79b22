/**
 * Which classes keep the edge correction: a class whose normal frames score
 * high on their outer ring (as letterboxed textures do) keeps it, a class
 * with flat normal maps does not; the recorded figures are what a slow
 * reference gives (every map scored by a scorer opened alone, each normal
 * corrected by the mean of the other normals per distance, the metrics
 * accumulated by hand).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { keepsEdgeCorrection, tuneEdgeCorrection, describeEdgeChoice, remeasureEdges } from "../../../src/pipeline/tune/edge-correction.js";
import type { PseudoFeature } from "../../../src/pipeline/tune/pseudo-features.js";
import { openScorer, type ScorerParts } from "../../../src/pipeline/open-scorer.js";
import { EDGE_REACH, edgeDistances, type EdgeProfiles } from "../../../src/model/scoring/edge-profile.js";
import { PixelMetricAccumulator } from "../../../src/measures/metrics.js";
import { ProAccumulator } from "../../../src/measures/pro.js";
import { createRng } from "../../../src/util/random.js";
import type { FeatureMap } from "../../../src/model/types.js";
import type { Placement } from "../../../src/image/geometry.js";

const c = 8, h = 8, w = 8, S = 64, hw = h * w, CELL = S / w;
const settings = { mapSize: S, sigma: 2, pool: 1, imageScore: "top" as const, top: 0.05, k: 1, tau: 20, deltaT: 20, eta: 0 };
const ring = (p: number) => p < w || p >= hw - w || p % w === 0 || p % w === w - 1;

/** A frame: small noise; `edgy` frames (a level of their own on channel 1) are loud on the outer ring of cells, which the bank then covers only loosely. */
function frame(rng: ReturnType<typeof createRng>, edgy: boolean, defect?: number): FeatureMap {
  const data = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) data[ch * hw + p] = rng.normal() * (edgy && ring(p) ? 0.3 : 0.05) + (edgy && ch === 1 ? 3 : 0);
  if (defect !== undefined) data[defect] = data[defect]! + 0.7;
  return { c, h, w, data };
}

function cellMask(p: number): Uint8Array {
  const mask = new Uint8Array(S * S);
  const [py, px] = [Math.floor(p / w), p % w];
  for (let y = py * CELL; y < (py + 1) * CELL; y++) for (let x = px * CELL; x < (px + 1) * CELL; x++) mask[y * S + x] = 1;
  return mask;
}

/** `place`: every frame letterboxed there (the features still cover the whole grid, as a mirrored border's do). */
function model(seed: number, place?: Placement): { set: PseudoFeature[]; parts: ScorerParts } {
  const rng = createRng(seed);
  const bank: FeatureMap[] = [];
  for (let i = 0; i < 6; i++) bank.push(frame(rng, true), frame(rng, false));
  const coreset = new Float32Array(bank.length * hw * c);
  bank.forEach((x, i) => {
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) coreset[(i * hw + p) * c + ch] = x.data[ch * hw + p]!;
  });
  const set: PseudoFeature[] = [];
  for (const [cls, edgy] of [["cloth", true], ["nut", false]] as const) {
    const placed = (x: FeatureMap): FeatureMap => (place ? { ...x, place } : x);
    for (let i = 0; i < 8; i++) set.push({ cls, anomalous: false, x: placed(frame(rng, edgy)) });
    // Defects in the middle and on the ring.
    for (const p of [27, 36, 9, 62]) set.push({ cls, anomalous: true, x: placed(frame(rng, edgy, p)), mask: cellMask(p) });
  }
  return { set, parts: { coreset, coresetSize: bank.length * hw, c } };
}

/**
 * The slow reference: each map scored alone; the profile per distance as a plain mean over the other normals; metrics by hand,
 * over the pixels inside `place` (every pixel without one; `uncropped`: every pixel even with one, what the figures must not be).
 */
async function reference(m: ReturnType<typeof model>, cls: string, place?: Placement, uncropped = false): Promise<{ base: { pixel_auroc: number; aupro: number }; corrected: { pixel_auroc: number; aupro: number } }> {
  const rect = place ?? { x: 0, y: 0, w: S, h: S };
  const dist = edgeDistances(rect, S, EDGE_REACH);
  const region = uncropped ? { x: 0, y: 0, w: S, h: S } : rect;
  const inside = <T extends Float32Array | Uint8Array>(a: T): T => {
    const out = (a instanceof Float32Array ? new Float32Array(region.w * region.h) : new Uint8Array(region.w * region.h)) as T;
    for (let y = 0; y < region.h; y++) for (let x = 0; x < region.w; x++) out[y * region.w + x] = a[(region.y + y) * S + region.x + x]!;
    return out;
  };
  const opened = await openScorer("knn", m.parts, settings, {});
  const items: { map: Float32Array; anomalous: boolean; mask: Uint8Array }[] = [];
  try {
    for (const f of m.set.filter((f) => f.cls === cls)) items.push({ map: (await opened.scorer.score(f.x)).map, anomalous: f.anomalous, mask: f.mask ?? new Uint8Array(S * S) });
  } finally {
    await opened.release();
  }
  const profile = (normals: Float32Array[]) => {
    const mean = Array.from({ length: EDGE_REACH + 1 }, (_, d) => {
      let s = 0, n = 0;
      for (const a of normals) for (let i = 0; i < a.length; i++) if (dist[i] === d) (s += a[i]!), n++;
      return n > 0 ? s / n : undefined;
    });
    const deepest = mean.filter((v) => v !== undefined).at(-1)!;
    return mean.map((v) => (v === undefined ? 0 : v - deepest));
  };
  const px = [new PixelMetricAccumulator(), new PixelMetricAccumulator()];
  const pro = [new ProAccumulator(), new ProAccumulator()];
  for (const it of items) {
    const others = items.filter((o) => !o.anomalous && o !== it).map((o) => o.map);
    const p = profile(others);
    // A border pixel (distance −1) is not the frame's: left as it is.
    const corrected = Float32Array.from(it.map, (v, i) => (dist[i]! < 0 ? v : Math.max(0, v - p[dist[i]!]!)));
    [it.map, corrected].forEach((map, k) => {
      px[k]!.add(inside(map), inside(it.mask));
      pro[k]!.add(inside(map), inside(it.mask), region.w);
    });
  }
  return { base: { pixel_auroc: px[0]!.auroc(), aupro: pro[0]!.aupro() }, corrected: { pixel_auroc: px[1]!.auroc(), aupro: pro[1]!.aupro() } };
}

test("the class whose normals score high on their frame's edge keeps the correction, the flat one does not; the figures match a slow reference", async () => {
  const m = model(4);
  const { edges, record } = await tuneEdgeCorrection({ set: m.set, parts: m.parts, settings, mode: "knn", margin: 0.005, sessionOptions: {} });
  assert.deepEqual(Object.keys(record.classes), ["cloth", "nut"]);
  for (const cls of ["cloth", "nut"]) {
    const ref = await reference(m, cls);
    const got = record.classes[cls]!;
    for (const which of ["base", "corrected"] as const) {
      assert.ok(Math.abs(got[which].pixel_auroc! - ref[which].pixel_auroc) < 1e-9, `${cls} ${which} pixel AUROC ${got[which].pixel_auroc} against ${ref[which].pixel_auroc}`);
      assert.ok(Math.abs(got[which].aupro! - ref[which].aupro) < 1e-6, `${cls} ${which} AUPRO ${got[which].aupro} against ${ref[which].aupro}`);
    }
    assert.equal(got.chosen, keepsEdgeCorrection(got.base, got.corrected, 0.005), cls);
  }
  const cloth = record.classes["cloth"]!;
  assert.ok(cloth.chosen && cloth.corrected.aupro! > cloth.base.aupro! + 0.05, JSON.stringify(cloth));
  assert.equal(record.classes["nut"]!.chosen, false, JSON.stringify(record.classes["nut"]));
  // Served: the kept class's profile over every normal (its ring's excess, the middle 0), reach + 1 values.
  assert.deepEqual(Object.keys(edges!.classes), ["cloth"]);
  const profile = edges!.classes["cloth"]!;
  assert.equal(profile.length, EDGE_REACH + 1);
  assert.ok(profile[0]! > 0.3 && Math.abs(profile[EDGE_REACH]!) < 1e-12, JSON.stringify(profile));
  assert.deepEqual([edges!.mode, edges!.reach, record.margin], ["knn", EDGE_REACH, 0.005]);
  assert.match(describeEdgeChoice(record), /^edge correction \(knn mode, pseudo-validation AUPRO without → with\): cloth \d+\.\d → \d+\.\d \(kept\), nut \d+\.\d → \d+\.\d; kept for cloth$/);
});

test("letterboxed frames: the figures are over the frame's pixels only (a border's pixels are not the frame's), as a slow reference cropping by hand gives", async () => {
  // The frame spans rows 8–55 of the 64-px input; rows 0–7 and 56–63 are its border (the defects on the grid's top and bottom rows sit there).
  const place = { x: 0, y: 8, w: S, h: 48 };
  const m = model(4, place);
  const { record } = await tuneEdgeCorrection({ set: m.set, parts: m.parts, settings, mode: "knn", margin: 0.005, sessionOptions: {} });
  for (const cls of ["cloth", "nut"]) {
    const [ref, whole] = [await reference(m, cls, place), await reference(m, cls, place, true)];
    const got = record.classes[cls]!;
    for (const which of ["base", "corrected"] as const) {
      assert.ok(Math.abs(got[which].pixel_auroc! - ref[which].pixel_auroc) < 1e-9, `${cls} ${which} pixel AUROC ${got[which].pixel_auroc} against ${ref[which].pixel_auroc}`);
      assert.ok(Math.abs(got[which].aupro! - ref[which].aupro) < 1e-6, `${cls} ${which} AUPRO ${got[which].aupro} against ${ref[which].aupro}`);
      // Counting the border's pixels would give other figures.
      assert.ok(Math.abs(whole[which].pixel_auroc - ref[which].pixel_auroc) > 1e-6, `${cls} ${which}: the border changes nothing here, so this test could not fail`);
    }
  }
});

test("the rule: neither figure down, one up by the margin; an undefined figure keeps nothing", () => {
  const f = (pixel_auroc: number | null, aupro: number | null) => ({ pixel_auroc, aupro });
  assert.equal(keepsEdgeCorrection(f(0.9, 0.6), f(0.9, 0.605), 0.005), true);
  assert.equal(keepsEdgeCorrection(f(0.9, 0.6), f(0.905, 0.6), 0.005), true);
  assert.equal(keepsEdgeCorrection(f(0.9, 0.6), f(0.904, 0.604), 0.005), false);
  assert.equal(keepsEdgeCorrection(f(0.9, 0.6), f(0.899, 0.7), 0.005), false);
  assert.equal(keepsEdgeCorrection(f(0.9, 0.6), f(0.95, 0.599), 0.005), false);
  assert.equal(keepsEdgeCorrection(f(0.9, null), f(0.95, 0.7), 0), false);
});

test("a lifecycle job measures the kept classes' profiles again on its held-out normals; a class without any keeps its own, untagged maps count for none", async () => {
  const m = model(4);
  const zeros = Array<number>(EDGE_REACH + 1).fill(0);
  const edges: EdgeProfiles = { mode: "knn", reach: EDGE_REACH, classes: { cloth: zeros, nut: [...zeros.slice(1), 7] } };
  const cloth = m.set.filter((f) => f.cls === "cloth" && !f.anomalous);
  // Two untagged maps of the other class, which must not move cloth's profile.
  const maps = [...cloth.map((f) => f.x), ...m.set.filter((f) => f.cls === "nut" && !f.anomalous).slice(0, 2).map((f) => f.x)];
  const classes = [...cloth.map(() => "cloth"), undefined, undefined];
  const r = await remeasureEdges({ edges, maps, classes, parts: m.parts, settings, sessionOptions: {} });
  assert.deepEqual(r.normals, { cloth: cloth.length, nut: 0 });
  assert.deepEqual(r.edges.classes["nut"], edges.classes.nut, "no held-out normal: kept");
  // Cloth's: the mean per distance over its normals' maps less the deepest, by hand.
  const dist = edgeDistances({ x: 0, y: 0, w: S, h: S }, S, EDGE_REACH);
  const opened = await openScorer("knn", m.parts, settings, {});
  const sum = new Float64Array(EDGE_REACH + 1), n = new Float64Array(EDGE_REACH + 1);
  try {
    for (const f of cloth) {
      const map = (await opened.scorer.score(f.x)).map;
      map.forEach((v, i) => ((sum[dist[i]!]! += v), n[dist[i]!]!++));
    }
  } finally {
    await opened.release();
  }
  // A 64-px square reaches distance 31 at most: that is the middle, and 32 (unmeasured) gets 0.
  const mean = Array.from(sum, (s, d) => (n[d]! > 0 ? s / n[d]! : undefined));
  const middle = mean[S / 2 - 1]!;
  const want = mean.map((v) => (v === undefined ? 0 : v - middle));
  const got = r.edges.classes["cloth"]!;
  assert.equal(got.length, EDGE_REACH + 1);
  got.forEach((v, d) => assert.ok(Math.abs(v - want[d]!) < 1e-5 * Math.max(1, Math.abs(want[d]!)), `distance ${d}: ${v} against ${want[d]}`));
  assert.ok(got[0]! > 0.3, "its loud ring measured");
  assert.deepEqual([r.edges.mode, r.edges.reach], ["knn", EDGE_REACH]);
});
