/**
 * Scoring a training image as if it had not been fitted: its own coreset
 * rows (copies of its slices) left out of every search. Checked against an
 * independent computation: the same image scored by a scorer opened on the
 * bank without those rows.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { openScorer } from "../../../src/pipeline/open-scorer.js";
import { withoutRows, OnnxKnn, COPY_DISTANCE_PER_CHANNEL, COPY_SEARCH_DEPTH } from "../../../src/model/memory/onnx-knn.js";
import { classesShortOfNormals, evenlyPicked, leftOutFiles, leftOutScores } from "../../../src/pipeline/tune/left-out.js";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classThresholds } from "../../../src/model/scoring/threshold.js";
import { createRng } from "../../../src/util/random.js";
import type { FeatureMap } from "../../../src/pipeline/types.js";

const c = 6, h = 4, w = 4, hw = h * w, S = 16;
const settings = { mapSize: S, sigma: 1, pool: 2, k: 3, tau: 20, deltaT: 20, eta: 0 };

/** A bank of `others` random rows plus copies of `copied` positions of x (position-major rows), and x itself. */
function bankWithCopies(seed: number, others: number, copied: readonly number[]): { x: FeatureMap; coreset: Float32Array; size: number; own: number[] } {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: c * hw }, () => rng.normal());
  const x: FeatureMap = { c, h, w, data };
  const size = others + copied.length;
  const coreset = new Float32Array(size * c);
  for (let r = 0; r < others; r++) for (let ch = 0; ch < c; ch++) coreset[r * c + ch] = rng.normal();
  // The copies sit among the other rows (every third place), as a coreset interleaves images.
  const own: number[] = [];
  copied.forEach((p, i) => {
    const row = others + i;
    for (let ch = 0; ch < c; ch++) coreset[row * c + ch] = data[ch * hw + p]!;
    own.push(row);
  });
  return { x, coreset, size, own };
}

function withoutRowsOf(coreset: Float32Array, size: number, drop: readonly number[]): Float32Array {
  const keep = [...Array(size).keys()].filter((r) => !drop.includes(r));
  const out = new Float32Array(keep.length * c);
  keep.forEach((r, i) => out.set(coreset.subarray(r * c, (r + 1) * c), i * c));
  return out;
}

for (const mode of ["knn", "edit-only"] as const) {
  test(`${mode}: a training image scored with leaveOut scores as on the bank without its rows`, async () => {
    const { x, coreset, size, own } = bankWithCopies(7, 40, [0, 3, 5, 6, 9, 12, 15]);
    const parts = { coreset, coresetSize: size, c };
    const scorer = await openScorer(mode, parts, settings, {});
    const reduced = await openScorer(mode, { coreset: withoutRowsOf(coreset, size, own), coresetSize: size - own.length, c }, settings, {});
    try {
      const left = await scorer.scorer.score(x, undefined, { leaveOut: true });
      const truth = await reduced.scorer.score(x);
      const seen = await scorer.scorer.score(x);
      assert.ok(Math.abs(left.score - truth.score) < 1e-4 * truth.score, `${left.score} vs ${truth.score}`);
      for (let i = 0; i < left.map.length; i++) assert.ok(Math.abs(left.map[i]! - truth.map[i]!) < 1e-4 * (1 + truth.map[i]!));
      // Fitted, the image finds its own copies and scores lower.
      assert.ok(seen.score < truth.score, `${seen.score} should be under ${truth.score}`);
    } finally {
      await Promise.all([scorer.release(), reduced.release()]);
    }
  });
}

/** x's slices as position-major rows, the knn's queries. */
function rowsOf(x: FeatureMap): Float32Array {
  const rows = new Float32Array(hw * c);
  for (let p = 0; p < hw; p++) for (let ch = 0; ch < c; ch++) rows[p * c + ch] = x.data[ch * hw + p]!;
  return rows;
}

test("copiesOf finds exactly the rows copied from the queries, however many copies one slice has", async () => {
  const { x, coreset, size, own } = bankWithCopies(11, 30, [1, 2, 8]);
  const knn = await OnnxKnn.create(coreset, size, c, 1, {});
  try {
    assert.deepEqual([...(await knn.copiesOf(rowsOf(x), hw))].sort((a, b) => a - b), own);
  } finally {
    await knn.release();
  }
  // One slice copied more often than the first search's depth (a flat background repeats exactly): the search deepens.
  const many = Array.from({ length: 3 * COPY_SEARCH_DEPTH + 1 }, () => 5);
  const repeated = bankWithCopies(12, 30, [...many, 7]);
  const deep = await OnnxKnn.create(repeated.coreset, repeated.size, c, 3, {});
  try {
    assert.deepEqual([...(await deep.copiesOf(rowsOf(repeated.x), hw))].sort((a, b) => a - b), repeated.own);
  } finally {
    await deep.release();
  }
  // Over the rounding of a recomputed slice (2.5e-6 a channel) and under the nearest other row (6e-4), both measured on the realistic suite.
  assert.ok(COPY_DISTANCE_PER_CHANNEL > 2.5e-6 * 10 && COPY_DISTANCE_PER_CHANNEL < 6e-4 / 2);
});

test("a search leaving rows out finds what a brute-force search of the other rows finds, at any k", async () => {
  const { x, coreset, size } = bankWithCopies(13, 50, [0, 4]);
  const queries = rowsOf(x);
  const exclude = new Set([3, 10, 11, 30, 50, 51]);
  for (const k of [1, 3, 7]) {
    const knn = await OnnxKnn.create(coreset, size, c, k, {});
    try {
      const got = await knn.search(queries, hw, exclude);
      const plain = await knn.search(queries, hw);
      for (let q = 0; q < hw; q++) {
        const d = (r: number) => { let s = 0; for (let ch = 0; ch < c; ch++) s += (queries[q * c + ch]! - coreset[r * c + ch]!) ** 2; return s; };
        const brute = [...Array(size).keys()].filter((r) => !exclude.has(r)).sort((a, b) => d(a) - d(b)).slice(0, k);
        assert.deepEqual([...got.indices.subarray(q * k, (q + 1) * k)], brute, `query ${q} at k ${k}`);
        for (let j = 0; j < k; j++) assert.ok(Math.abs(got.distances[q * k + j]! - d(brute[j]!)) < 1e-4 * (1 + d(brute[j]!)));
        assert.equal(plain.indices.length, hw * k);
      }
    } finally {
      await knn.release();
    }
  }
  // Leaving out all but k − 1 rows leaves a query short: refused, not padded.
  const tiny = await OnnxKnn.create(coreset, size, c, 3, {});
  try {
    await assert.rejects(tiny.search(queries, hw, new Set([...Array(size - 2).keys()])), /2 of its 3 neighbours/);
  } finally {
    await tiny.release();
  }
});

test("withoutRows keeps each query's first k neighbours outside the excluded set, in order", () => {
  // 2 queries × 4 neighbours.
  const raw = { indices: Int32Array.from([5, 2, 9, 1, 7, 5, 3, 2]), distances: Float32Array.from([0, 1, 2, 3, 0.5, 0.6, 0.7, 0.8]) };
  const r = withoutRows(raw, 4, 2, new Set([5, 9]));
  assert.deepEqual([...r.indices], [2, 1, 7, 3]);
  assert.deepEqual([...r.distances], [...Float32Array.from([1, 3, 0.5, 0.7])]);
  assert.throws(() => withoutRows(raw, 4, 3, new Set([5, 9])), /query 0 2 of its 3 neighbours/);
});

test("classesShortOfNormals and evenlyPicked", () => {
  const params = { rule: "normal-quantile" as const, quantile: 0.99, falseAlarmRate: 0.005, perClass: true, minClassNormals: 3 };
  assert.deepEqual(classesShortOfNormals(params, ["a", "a", "a", "b", "b"], ["a", "b", "c", "b"]), ["b", "c"]);
  assert.deepEqual(classesShortOfNormals({ ...params, perClass: false }, [], ["a"]), []);
  assert.deepEqual(evenlyPicked([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4), [1, 3, 6, 8]);
  assert.deepEqual(evenlyPicked([1, 2], 4), [1, 2]);
});

test("classThresholds calibrates a class short of held-out normals on its left-out bank images too, and a class with enough on its held-out ones alone", () => {
  const params = { rule: "normal-quantile" as const, quantile: 0.5, falseAlarmRate: 0.005, perClass: true, minClassNormals: 4 };
  const normal = (cls: string, score: number, leftOut = false) => ({ cls, anomalous: false, score, ...(leftOut ? { leftOut } : {}) });
  const samples = [
    normal("few", 10), normal("few", 10),
    ...[10, 10, 10].map((s) => normal("few", s, true)),
    ...[1, 1, 1, 1].map((s) => normal("many", s)),
    ...[100, 100].map((s) => normal("many", s, true)),
    normal("none", 5), ...[5, 5].map((s) => normal("none", s, true)),
  ];
  const t = classThresholds(params, samples)!;
  // few: 2 held out + 3 left out = 5 ≥ 4, all at 10 (sd 0): its threshold is 10.
  assert.equal(t.few!.holdoutImages, 2);
  assert.equal(t.few!.leftOutImages, 3);
  assert.ok(Math.abs(t.few!.value - 10) < 1e-9);
  // many: 4 held out suffice; its left-out images (at 100) are not used.
  assert.equal(t.many!.leftOutImages, undefined);
  assert.ok(Math.abs(t.many!.value - 1) < 1e-9);
  // none: 1 + 2 = 3 < 4: still on the model's threshold.
  assert.equal(t.none, undefined);
});

test("leftOutScores scores each map in a bank mode as a left-out class normal, and none in no-edit", async () => {
  const { x, coreset, size } = bankWithCopies(5, 20, [0, 1, 2, 3]);
  const parts = { coreset, coresetSize: size, c };
  const got = await leftOutScores([{ cls: "a", x }, { cls: "b", x }], parts, settings, "knn", {});
  assert.deepEqual(got.map((s) => [s.cls, s.leftOut, s.anomalous]), [["a", true, false], ["b", true, false]]);
  assert.equal(got[0]!.score, got[1]!.score);
  assert.deepEqual(await leftOutScores([{ cls: "a", x }], parts, settings, "no-edit", {}), []);
});

test("leftOutFiles: a class's bank images less its held-out ones; a tile bundle's class (held-out tiles) gets its bank frames' tiles, never whole frames", async () => {
  const data = await mkdtemp(join(tmpdir(), "lafite-left-out-files-"));
  try {
    for (const cls of ["nut", "sheet"]) {
      await mkdir(join(data, cls, "train", "good"), { recursive: true });
      for (const f of ["a.png", "b.png", "c.png"]) await writeFile(join(data, cls, "train", "good", f), "");
    }
    const whole = await leftOutFiles(data, ["nut/train/good/b.png"], ["nut"]);
    assert.deepEqual(whole.map((f) => f.path), ["a.png", "c.png"].map((f) => join(data, "nut", "train", "good", f)));
    // The sheet's tile bundle held out frame b's 2×2 tiles (overlap 0.25): the other frames' tiles are its bank images.
    const heldTiles = [0, 1, 2, 3].map((i) => `sheet/train/good/b.png::tile(2,${i},0.25)`);
    const tiles = await leftOutFiles(data, heldTiles, ["sheet"]);
    assert.deepEqual(tiles.map((f) => f.path), ["a.png", "c.png"].flatMap((f) => [0, 1, 2, 3].map((i) => `${join(data, "sheet", "train", "good", f)}::tile(2,${i},0.25)`)));
    assert.ok(tiles.every((f) => f.cls === "sheet"));
  } finally {
    await rm(data, { recursive: true, force: true });
  }
});
