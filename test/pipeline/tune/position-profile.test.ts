/**
 * Which classes get a position profile at fit: a class of one frame size
 * whose normals are loud in one corner and whose defects are quiet bumps
 * elsewhere keeps its profile, with figures a slow reference computes by hand
 * (each normal against the profile of the others); a class of many sizes, and
 * a class another class's normals read as, do not. A lifecycle re-measure
 * rebuilds the kept profiles from the maps it is given, and keeps one it
 * cannot measure again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { profileRemeasureWork, profileTuneWork, remeasureProfiles, tuneProfiles, type ProfileFrame } from "../../../src/pipeline/tune/position-profile.js";
import { openScorer, type ScorerParts } from "../../../src/pipeline/open-scorer.js";
import { seedOfFeatures } from "../../../src/pipeline/frame-scorer.js";
import { imageScoreOf, resizeBilinear } from "../../../src/model/scoring/anomaly-map.js";
import { PROFILE_GRID, ProfileSums, positionProfile, profileGridMap, standardizeMap } from "../../../src/model/scoring/position-profile.js";
import { auroc } from "../../../src/measures/metrics.js";
import { createRng } from "../../../src/util/random.js";
import { bankParts } from "../../support/bank-parts.js";
import type { FeatureMap } from "../../../src/model/types.js";

const c = 8, h = 8, w = 8, S = 64, hw = h * w;
const settings = { mapSize: S, sigma: 2, pool: 1, imageScore: "top" as const, top: 0.02, k: 1, tau: 20, deltaT: 20, eta: 0 };

/** A frame of class level `level` (channel 0): loud in its top-left 3×3 cells, quiet elsewhere; `bump` raises channel 1 in cells (5..6, 5..6). */
function frame(rng: ReturnType<typeof createRng>, level: number, size: { width: number; height: number }, bump = 0): FeatureMap {
  const data = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < hw; p++) {
      const [y, x] = [Math.floor(p / w), p % w];
      const loud = y < 3 && x < 3;
      data[ch * hw + p] = rng.normal() * (loud ? 0.6 : 0.05) + (ch === 0 ? level : 0) + (ch === 1 && y >= 5 && y < 7 && x >= 5 && x < 7 ? bump : 0);
    }
  }
  return { c, h, w, data, frameSize: size };
}

const NUT = { width: 256, height: 256 };

function model(seed: number, options: { intruder?: boolean } = {}): { set: ProfileFrame[]; parts: ScorerParts } {
  const rng = createRng(seed);
  const bank: FeatureMap[] = [];
  for (let i = 0; i < 6; i++) bank.push(frame(rng, 0, { width: 400, height: 300 }), frame(rng, 5, NUT));
  const set: ProfileFrame[] = [];
  for (let i = 0; i < 12; i++) {
    set.push({ cls: "tiles", anomalous: false, x: frame(rng, 0, { width: 200 + 25 * i, height: 150 }) });
    set.push({ cls: "nuts", anomalous: false, x: frame(rng, 5, NUT) });
  }
  for (let i = 0; i < 6; i++) set.push({ cls: "nuts", anomalous: true, x: frame(rng, 5, NUT, 0.35) });
  // A frame labelled as a tile that looks like a nut: its class reads it as nuts.
  if (options.intruder) set.push({ cls: "tiles", anomalous: false, x: frame(rng, 5, NUT) });
  return { set, parts: bankParts(bank, (i) => i % 2, ["tiles", "nuts"]) };
}

test("a class of one size whose normals are loud where its defects are not keeps its profile, with the figures of a slow reference; a class of many sizes does not", async () => {
  const m = model(5);
  const ticks = { n: 0 };
  const { profiles, record } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {}, progress: { tick: (n = 1) => (ticks.n += n) } as never });
  assert.equal(record.classes["tiles"]?.chosen, false);
  assert.match(record.classes["tiles"]!.why, /normals of 12 frame sizes/);
  assert.equal(record.classes["nuts"]?.chosen, true, JSON.stringify(record.classes["nuts"]));
  assert.deepEqual(Object.keys(profiles!.classes), ["nuts"]);
  assert.equal(ticks.n, profileTuneWork(m.set));
  // The slow reference: every nut scored alone as its class; each normal standardized by the profile of the other eleven.
  const opened = await openScorer("knn", m.parts, settings, {});
  try {
    const nuts = m.set.filter((f) => f.cls === "nuts");
    const scored = await Promise.all(nuts.map(async (f) => await opened.scorer.score(f.x, "nuts")));
    const grids = scored.map((s) => profileGridMap(s.scoreMap, S, PROFILE_GRID));
    const onMap = (p: { mean: Float32Array; scale: Float32Array }) => ({ mean: resizeBilinear(p.mean, PROFILE_GRID, PROFILE_GRID, S, S), scale: resizeBilinear(p.scale, PROFILE_GRID, PROFILE_GRID, S, S) });
    const normalGrids = grids.filter((_, i) => !nuts[i]!.anomalous);
    const standardized = scored.map((s, i) => {
      const others = nuts[i]!.anomalous ? normalGrids : normalGrids.filter((g) => g !== grids[i]);
      return imageScoreOf(standardizeMap(s.scoreMap, onMap(positionProfile(others))), S, settings);
    });
    const labels = nuts.map((f) => (f.anomalous ? 1 : 0));
    const r = record.classes["nuts"]!;
    assert.ok(Math.abs(r.base!.image_auroc! - auroc(scored.map((s) => s.score), labels)) < 1e-12);
    assert.ok(Math.abs(r.standardized!.image_auroc! - auroc(standardized, labels)) < 1e-12);
    assert.ok(r.standardized!.image_auroc! > r.base!.image_auroc!, `${r.base!.image_auroc} → ${r.standardized!.image_auroc}`);
    // The recorded sums are the normals' grid maps', members their fingerprints.
    const sums = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
    for (const g of normalGrids) sums.add(g);
    const rec = profiles!.classes["nuts"]!;
    rec.sum.forEach((v, i) => assert.ok(Math.abs(v - sums.record().sum[i]!) < 1e-9));
    assert.deepEqual(rec.members, nuts.filter((f) => !f.anomalous).map((f) => seedOfFeatures(f.x)));
  } finally {
    await opened.release();
  }
});

test("a class another class's normals read as is not profiled: they would be standardized by a profile of other parts", async () => {
  const m = model(5, { intruder: true });
  const ticks = { n: 0 };
  const { profiles, record } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {}, progress: { tick: (n = 1) => (ticks.n += n) } as never });
  assert.equal(profiles, undefined);
  assert.equal(ticks.n, profileTuneWork(m.set), "the excluded class's frames count as done");
  assert.equal(record.classes["nuts"]?.chosen, false);
  assert.equal(record.classes["nuts"]!.why, "normals of tiles read as it");
});

test("a re-measure rebuilds a kept profile from the maps it is given, and keeps one it cannot measure again", async () => {
  const m = model(5);
  const { profiles } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {} });
  const rng = createRng(99);
  const fresh = Array.from({ length: 11 }, () => frame(rng, 5, NUT));
  // An untagged map, and a tile: neither is a nut's.
  const maps = [...fresh, frame(rng, 5, NUT), frame(rng, 0, { width: 300, height: 200 })];
  const classes = [...fresh.map(() => "nuts"), undefined, "tiles"];
  assert.equal(profileRemeasureWork(profiles!, maps, classes), 11);
  let ticks = 0;
  const again = await remeasureProfiles({ profiles: profiles!, maps, classes, parts: m.parts, settings: { ...settings, profiles: profiles! }, sessionOptions: {}, onScored: () => ticks++ });
  assert.equal(ticks, 11);
  assert.equal(again.normals["nuts"], 11);
  const rec = again.profiles.classes["nuts"]!;
  assert.deepEqual(rec.members, fresh.map(seedOfFeatures));
  // Measured without the old profile: the plain scorer's maps.
  const opened = await openScorer("knn", m.parts, settings, {});
  try {
    const sums = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
    for (const x of fresh) sums.add(profileGridMap((await opened.scorer.score(x, "nuts")).scoreMap, S, PROFILE_GRID));
    rec.squares.forEach((v, i) => assert.ok(Math.abs(v - sums.record().squares[i]!) < 1e-9));
  } finally {
    await opened.release();
  }
  // Nine maps: too few to measure again, so the profile stays.
  const few = await remeasureProfiles({ profiles: profiles!, maps: fresh.slice(0, 9), classes: classes.slice(0, 9), parts: m.parts, settings, sessionOptions: {} });
  assert.deepEqual(few.profiles, profiles);
});
