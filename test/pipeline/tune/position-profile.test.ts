/**
 * Which classes get a position profile at fit: a class of one frame size
 * whose normals are loud in one corner and whose defects are quiet bumps
 * elsewhere keeps its profile, with figures a slow reference computes by hand
 * (each normal against the profile of the others); a class of many sizes is
 * measured in frame coordinates, against a slow reference too; a class
 * another class's normals read as is not profiled, nor that class; a
 * profiled class's normal that reads as another class (an accepted frame, in
 * a lifecycle job) does not calibrate its threshold. A lifecycle re-measure
 * rebuilds the kept profiles from the maps it is given, and keeps one it
 * cannot measure again; a session-29 profile (input coordinates) keeps its
 * one-size rule.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { profileRemeasureWork, profileTuneWork, remeasureProfiles, tuneProfiles, type ProfileFrame } from "../../../src/pipeline/tune/position-profile.js";
import { calibrateModes, calibratesOwnClass } from "../../../src/pipeline/tune/calibrate.js";
import { openScorer, type ScorerParts } from "../../../src/pipeline/open-scorer.js";
import { seedOfFeatures } from "../../../src/pipeline/frame-scorer.js";
import { imageScoreOf, resizeBilinear } from "../../../src/model/scoring/anomaly-map.js";
import { PROFILE_GRID, ProfileSums, positionProfile, profileGridMap, standardizeMap, type PositionProfiles } from "../../../src/model/scoring/position-profile.js";
import { placement } from "../../../src/image/geometry.js";
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
  return { c, h, w, data, frameSize: size, place: placement(size.width, size.height, S, "letterbox") };
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
  for (let i = 0; i < 4; i++) set.push({ cls: "tiles", anomalous: true, x: frame(rng, 0, { width: 210 + 30 * i, height: 160 }, 0.5) });
  // A frame labelled as a tile that looks like a nut: its class reads it as nuts.
  if (options.intruder) set.push({ cls: "tiles", anomalous: false, x: frame(rng, 5, NUT) });
  return { set, parts: bankParts(bank, (i) => i % 2, ["tiles", "nuts"]) };
}

test("a class of one size whose normals are loud where its defects are not keeps its profile, with the figures of a slow reference; a class of many sizes is measured in frame coordinates", async () => {
  const m = model(5);
  const ticks = { n: 0 };
  const { profiles, record } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {}, progress: { tick: (n = 1) => (ticks.n += n) } as never });
  assert.equal(record.coords, "frame");
  assert.equal(profiles!.coords, "frame");
  assert.equal(record.classes["nuts"]?.chosen, true, JSON.stringify(record.classes["nuts"]));
  assert.ok(record.classes["nuts"]!.standardized);
  assert.ok(record.classes["tiles"]!.standardized, `tiles of 12 sizes are measured: ${record.classes["tiles"]!.why}`);
  assert.deepEqual(Object.keys(profiles!.classes).sort(), Object.entries(record.classes).filter(([, c]) => c.chosen).map(([k]) => k).sort());
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
    // The tiles, each of its own size: views of each frame's placement, and the profile brought to it by hand.
    const tiles = m.set.filter((f) => f.cls === "tiles");
    const tileScored = await Promise.all(tiles.map(async (f) => await opened.scorer.score(f.x, "tiles")));
    const tileViews = tileScored.map((s, i) => profileGridMap(s.scoreMap, S, PROFILE_GRID, tiles[i]!.x.place!));
    const normalViews = tileViews.filter((_, i) => !tiles[i]!.anomalous);
    const tileZ = tileScored.map((s, i) => {
      const p = positionProfile(tiles[i]!.anomalous ? normalViews : normalViews.filter((v) => v !== tileViews[i]));
      const { x, y, w: pw, h: ph } = tiles[i]!.x.place!;
      const mean = resizeBilinear(p.mean, PROFILE_GRID, PROFILE_GRID, pw, ph);
      const scale = resizeBilinear(p.scale, PROFILE_GRID, PROFILE_GRID, pw, ph);
      const z = new Float32Array(S * S);
      for (let r = 0; r < ph; r++) for (let q = 0; q < pw; q++) z[(y + r) * S + x + q] = (s.scoreMap[(y + r) * S + x + q]! - mean[r * pw + q]!) / scale[r * pw + q]!;
      return imageScoreOf(z, S, settings);
    });
    const tileLabels = tiles.map((f) => (f.anomalous ? 1 : 0));
    const t = record.classes["tiles"]!;
    assert.ok(new Set(tiles.map((f) => f.x.place!.h)).size > 1, "the tiles' placements differ");
    assert.ok(Math.abs(t.base!.image_auroc! - auroc(tileScored.map((s) => s.score), tileLabels)) < 1e-12);
    assert.ok(Math.abs(t.standardized!.image_auroc! - auroc(tileZ, tileLabels)) < 1e-12);
  } finally {
    await opened.release();
  }
});

test("a class another class's normals read as is not profiled: they would be standardized by a profile of other parts; nor that class, whose scores would mix units; nor one of fewer normals than threshold.minClassNormals", async () => {
  const m = model(5, { intruder: true });
  const ticks = { n: 0 };
  const { profiles, record } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {}, progress: { tick: (n = 1) => (ticks.n += n) } as never });
  assert.equal(profiles, undefined);
  assert.equal(ticks.n, profileTuneWork(m.set), "the excluded classes' frames count as done");
  assert.equal(record.classes["nuts"]?.chosen, false);
  assert.equal(record.classes["nuts"]!.why, "normals of tiles read as it");
  assert.equal(record.classes["tiles"]!.why, "1 of its normals read as another class");
  // With threshold.minClassNormals 13, neither class's 12 held-out normals can give it a threshold of its own.
  const strict = await tuneProfiles({ set: model(5).set, parts: m.parts, settings, mode: "knn", sessionOptions: {}, minClassNormals: 13 });
  assert.equal(strict.profiles, undefined);
  assert.equal(strict.record.classes["tiles"]!.why, "12 held-out normals, under 13");
  assert.equal(strict.record.classes["nuts"]!.why, "12 held-out normals, under 13");
  assert.equal(profileTuneWork(model(5).set, 13), 24, "the read pass alone");
});

test("a profiled class's normal that reads as another class calibrates neither its class's threshold nor the model's", async () => {
  const m = model(5);
  const { profiles } = await tuneProfiles({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {} });
  assert.ok(profiles?.classes["nuts"]);
  const rng = createRng(77);
  // A frame labelled a nut that looks like a tile: it reads as tiles, and its score is not in the nuts' profile's units.
  const stray: ProfileFrame = { cls: "nuts", anomalous: false, x: frame(rng, 0, { width: 300, height: 150 }) };
  // The nuts' profile alone: the model's threshold is then the tiles' normals'.
  const served = { ...settings, profiles: { ...profiles!, classes: { nuts: profiles!.classes["nuts"]! } } };
  const opened = await openScorer("knn", m.parts, served, {});
  try {
    const read = await opened.scorer.score(stray.x);
    assert.equal(read.class, "tiles");
  } finally {
    await opened.release();
  }
  assert.equal(calibratesOwnClass("nuts", "tiles", served, "knn"), false);
  assert.equal(calibratesOwnClass("nuts", "nuts", served, "knn"), true);
  assert.equal(calibratesOwnClass("nuts", "tiles", served, "lafite"), true, "another mode than the profiles'");
  assert.equal(calibratesOwnClass("screws", "nuts", served, "knn"), true, "a class without a profile");
  assert.equal(calibratesOwnClass("nuts", undefined, served, "knn"), true, "a model that names no class");
  const params = { rule: "normal-quantile" as const, quantile: 0.99, falseAlarmRate: 0.01, perClass: true };
  const without = await calibrateModes(m.set, m.parts, served, ["knn"], params, {});
  const withStray = await calibrateModes([...m.set, stray], m.parts, served, ["knn"], params, {});
  assert.deepEqual(withStray.knn!.classes!["nuts"], without.knn!.classes!["nuts"]);
  assert.equal(withStray.knn!.value, without.knn!.value);
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
  // Accepted nuts of a second size: measured again in frame coordinates; a session-29 profile (input coordinates, no
  // field) is kept, since a place of its input is the same place of the product only for frames of one size.
  const mixed = [...fresh, frame(rng, 5, { width: 256, height: 200 })];
  const mixedClasses = mixed.map(() => "nuts");
  assert.equal(profileRemeasureWork(profiles!, mixed, mixedClasses), 12);
  const { coords: _frame, ...inputProfiles } = profiles!;
  const legacy: PositionProfiles = inputProfiles;
  assert.equal(profileRemeasureWork(legacy, mixed, mixedClasses), 0);
  const kept = await remeasureProfiles({ profiles: legacy, maps: mixed, classes: mixedClasses, parts: m.parts, settings, sessionOptions: {} });
  assert.deepEqual(kept.profiles, legacy);
});

test("a class whose heatmap weighs the detail bank otherwise than its image score: its profile also sums its normals' heatmaps, and its served heatmap stands in their units", async () => {
  const m = model(5);
  const unit = { mean: 0, sd: 1 };
  // The nuts' heatmap is the detail bank's alone (channels 1..7, where their defects are), their image score the main bank's.
  const detail = { stages: ["fine"], channels: [1, 8] as const, weight: 0, classWeights: { nuts: 1, tiles: 0 }, imageClassWeights: { nuts: 0 }, normalizers: { detail: unit, main: { knn: unit } } };
  const withDetail = { ...settings, detail };
  const { profiles } = await tuneProfiles({ set: m.set, parts: m.parts, settings: withDetail, mode: "knn", sessionOptions: {} });
  const nutsRecord = profiles!.classes["nuts"]!;
  assert.ok(nutsRecord.heatmap, "the nuts' heatmaps are summed");
  const opened = await openScorer("knn", m.parts, withDetail, {});
  const served = await openScorer("knn", m.parts, { ...withDetail, profiles: profiles! }, {});
  try {
    const normals = m.set.filter((f) => f.cls === "nuts" && !f.anomalous);
    const scored = await Promise.all(normals.map(async (f) => await opened.scorer.score(f.x, "nuts")));
    assert.ok(scored.every((s) => s.map !== s.scoreMap), "the heatmap is another map");
    const heat = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
    const own = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
    for (const s of scored) {
      heat.add(profileGridMap(s.map, S, PROFILE_GRID, normals[0]!.x.place!));
      own.add(profileGridMap(s.scoreMap, S, PROFILE_GRID, normals[0]!.x.place!));
    }
    nutsRecord.heatmap!.sum.forEach((v, i) => assert.ok(Math.abs(v - heat.record().sum[i]!) < 1e-9));
    nutsRecord.sum.forEach((v, i) => assert.ok(Math.abs(v - own.record().sum[i]!) < 1e-9));
    // A defect served: its heatmap in the units of the normals' heatmaps (the slow reference), its score in those of their score maps.
    const defect = m.set.find((f) => f.cls === "nuts" && f.anomalous)!;
    const plain = await opened.scorer.score(defect.x, "nuts");
    const got = await served.scorer.score(defect.x, "nuts");
    const p = positionProfile(scored.map((s) => profileGridMap(s.map, S, PROFILE_GRID)));
    const z = standardizeMap(plain.map, { mean: resizeBilinear(p.mean, PROFILE_GRID, PROFILE_GRID, S, S), scale: resizeBilinear(p.scale, PROFILE_GRID, PROFILE_GRID, S, S) });
    got.profiledMap!.forEach((v, i) => assert.ok(Math.abs(v - z[i]!) < 1e-4, `position ${i}: ${v} against ${z[i]}`));
    // The tiles' heatmap is their score's map: no heatmap sums.
    if (profiles!.classes["tiles"]) assert.equal(profiles!.classes["tiles"].heatmap, undefined);
    // A lifecycle re-measure sums the heatmaps too: a bundle from before them gets them at its next refresh.
    const { heatmap: _before, ...legacy } = nutsRecord;
    const old: PositionProfiles = { ...profiles!, classes: { nuts: legacy } };
    const again = await remeasureProfiles({ profiles: old, maps: normals.map((f) => f.x), classes: normals.map(() => "nuts"), parts: m.parts, settings: { ...withDetail, profiles: old }, sessionOptions: {} });
    assert.deepEqual(again.profiles.classes["nuts"]!.heatmap, nutsRecord.heatmap);
  } finally {
    await opened.release();
    await served.release();
  }
});
