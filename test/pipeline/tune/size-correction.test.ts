/**
 * Which classes get the size correction at fit: a class whose small frames
 * score higher (their features noisier) keeps a trend, a class of one size
 * does not; the record is the line a slow reference fits by hand through the
 * normals scored one by one; anomalies and maps of unknown size take no part;
 * and a scorer opened with the trend scales exactly the frames judged as it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { remeasureSizes, tuneSizeCorrection } from "../../../src/pipeline/tune/size-correction.js";
import type { PseudoFeature } from "../../../src/pipeline/tune/pseudo-features.js";
import { openScorer, type ScorerParts } from "../../../src/pipeline/open-scorer.js";
import { sizeFactor, SIZE_MIN_NORMALS } from "../../../src/model/scoring/size-trend.js";
import { createRng } from "../../../src/util/random.js";
import { bankParts } from "../../support/bank-parts.js";
import type { FeatureMap } from "../../../src/model/types.js";

const c = 8, h = 8, w = 8, S = 64, hw = h * w;
const settings = { mapSize: S, sigma: 2, pool: 1, imageScore: "top" as const, top: 0.05, k: 1, tau: 20, deltaT: 20, eta: 0 };

/** A frame of class level `level` (channel 0) whose noise grows as its long side shrinks (a small frame magnified more). */
function frame(rng: ReturnType<typeof createRng>, level: number, width: number, height: number): FeatureMap {
  const amp = 0.05 * (400 / Math.max(width, height));
  const data = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < hw; p++) data[ch * hw + p] = rng.normal() * amp + (ch === 0 ? level : 0);
  return { c, h, w, data, frameSize: { width, height } };
}

function model(seed: number): { set: PseudoFeature[]; parts: ScorerParts } {
  const rng = createRng(seed);
  const bank: FeatureMap[] = [];
  for (let i = 0; i < 4; i++) bank.push(frame(rng, 0, 400, 300), frame(rng, 5, 256, 256));
  const set: PseudoFeature[] = [];
  for (let i = 0; i < 12; i++) {
    set.push({ cls: "tiles", anomalous: false, x: frame(rng, 0, 200 + 25 * i, 150) });
    set.push({ cls: "nuts", anomalous: false, x: frame(rng, 5, 256, 256) });
  }
  // Anomalies (small frames: they would steepen the line) and a normal of unknown size: neither is measured.
  for (let i = 0; i < 4; i++) set.push({ cls: "tiles", anomalous: true, x: frame(rng, 0, 100, 80), mask: new Uint8Array(S * S).fill(1) });
  const { frameSize: _unknown, ...unsized } = frame(rng, 0, 100, 100);
  set.push({ cls: "tiles", anomalous: false, x: unsized });
  return { set, parts: bankParts(bank, (i) => i % 2, ["tiles", "nuts"]) };
}

test("the class whose normals score higher the smaller they are keeps a trend, the class of one size does not; the line is a slow reference's", async () => {
  const m = model(3);
  const { sizes, record } = await tuneSizeCorrection({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {} });
  // The slow reference: each sized normal scored alone as its own class, the least-squares line through (log L, log score) by hand.
  const opened = await openScorer("knn", m.parts, settings, {});
  const points: { x: number; y: number }[] = [];
  try {
    for (const f of m.set.filter((f) => f.cls === "tiles" && !f.anomalous && f.x.frameSize)) points.push({ x: Math.log(Math.max(f.x.frameSize!.width, f.x.frameSize!.height)), y: Math.log((await opened.scorer.score(f.x, "tiles")).score) });
  } finally {
    await opened.release();
  }
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const slope = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  const tiles = record.classes["tiles"]!;
  assert.equal(tiles.normals, 12);
  assert.ok(Math.abs(tiles.slope - slope) < 1e-5, `slope ${tiles.slope} against ${slope}`);
  assert.ok(Math.abs(tiles.center - mx) < 1e-5);
  assert.deepEqual([tiles.minSide, tiles.maxSide], [200, 475]);
  assert.ok(tiles.slope < -0.5 && tiles.t < -2 && tiles.chosen, JSON.stringify(tiles));
  assert.equal(record.classes["nuts"]!.chosen, false);
  assert.equal(record.classes["nuts"]!.spread, 1);
  assert.deepEqual(Object.keys(sizes!.classes), ["tiles"]);
  assert.equal(sizes!.mode, "knn");

  // Served: a tile's map and score scaled by its factor, a nut's untouched, a frame of unknown size untouched.
  const plain = await openScorer("knn", m.parts, settings, {});
  const scaled = await openScorer("knn", m.parts, { ...settings, sizes: sizes! }, {});
  const other = await openScorer("edit-only", m.parts, { ...settings, sizes: sizes! }, {});
  try {
    const rng = createRng(99);
    const tile = frame(rng, 0, 230, 100);
    const [a, b] = [await plain.scorer.score(tile), await scaled.scorer.score(tile)];
    const factor = sizeFactor(sizes!.classes["tiles"]!, 230);
    assert.ok(factor < 0.95, `a small tile (its normals score high) is scaled down, but its factor is ${factor}`);
    assert.ok(Math.abs(b.score - a.score * factor) < 1e-5 * a.score);
    a.map.forEach((v, i) => assert.ok(Math.abs(b.map[i]! - v * factor) <= 1e-5 * Math.max(1e-6, v * factor)));
    const nut = frame(rng, 5, 256, 256);
    assert.equal((await scaled.scorer.score(nut)).score, (await plain.scorer.score(nut)).score);
    const { frameSize: _none, ...unsized } = tile;
    assert.equal((await scaled.scorer.score(unsized)).score, a.score);
    // Measured in knn mode: an edit-only scorer leaves it out.
    const editPlain = await openScorer("edit-only", m.parts, settings, {});
    try {
      assert.equal((await other.scorer.score(tile)).score, (await editPlain.scorer.score(tile)).score);
    } finally {
      await editPlain.release();
    }
  } finally {
    await plain.release();
    await scaled.release();
    await other.release();
  }
});

test("a lifecycle job measures the kept classes' trends again on its held-out normals; a class with too few keeps its own, untagged maps count for none", async () => {
  const m = model(3);
  const old = { slope: 0.3, center: 5, minSide: 10, maxSide: 20 };
  const sizes = { mode: "knn" as const, classes: { tiles: old, nuts: old } };
  const tiles = m.set.filter((f) => f.cls === "tiles" && !f.anomalous && f.x.frameSize);
  // Two untagged tiles and the nuts' 12 normals of one size: neither may move a trend.
  const maps = [...tiles.map((f) => f.x), ...tiles.slice(0, 2).map((f) => f.x), ...m.set.filter((f) => f.cls === "nuts").map((f) => f.x)];
  const classes = [...tiles.map(() => "tiles"), undefined, undefined, ...m.set.filter((f) => f.cls === "nuts").map(() => "nuts")];
  // Served with the old trends: the measurement leaves them out.
  const r = await remeasureSizes({ sizes, maps, classes, parts: m.parts, settings: { ...settings, sizes }, sessionOptions: {} });
  assert.deepEqual(r.normals, { tiles: 12, nuts: 12 });
  assert.deepEqual(r.sizes.classes["nuts"], old, "one size: no new trend, the old one kept");
  const fresh = await tuneSizeCorrection({ set: m.set, parts: m.parts, settings, mode: "knn", sessionOptions: {} });
  assert.deepEqual(r.sizes.classes["tiles"], fresh.sizes!.classes["tiles"], "the same line as fit's over the same normals");
  assert.equal(r.sizes.mode, "knn");
  const few = await remeasureSizes({ sizes, maps: maps.slice(0, 5), classes: classes.slice(0, 5), parts: m.parts, settings, sessionOptions: {} });
  assert.deepEqual(few.sizes.classes["tiles"], old, `${SIZE_MIN_NORMALS} normals needed`);
});
