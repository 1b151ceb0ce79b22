import { test } from "node:test";
import assert from "node:assert/strict";
import { contextChannelsOf, contextInUse, contextRows, frameContext, withContext } from "../../../src/model/scoring/context-bank.js";
import { contextCoreset, scaledContextRows } from "../../../src/model/memory/context-coreset.js";
import { CONTEXT_MIN_SHARE, frameContextClass, frameContextWeight } from "../../../src/pipeline/frame-scorer.js";
import type { FeatureMap } from "../../../src/model/types.js";
import { LafiteError } from "../../../src/util/errors.js";

/** A c×h×w map from a function of (channel, y, x). */
function mapOf(c: number, h: number, w: number, f: (ch: number, y: number, x: number) => number, frame?: FeatureMap["frame"]): FeatureMap {
  const data = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[ch * h * w + y * w + x] = f(ch, y, x);
  return { c, h, w, data, ...(frame ? { frame } : {}) };
}

test("frameContext: each channel's mean over the cells that show the frame, hand-computed", () => {
  // 3 channels on a 2×3 grid: channel ch holds 10·ch + (y·3 + x).
  const x = mapOf(3, 2, 3, (ch, y, xx) => 10 * ch + y * 3 + xx);
  // Channels [1, 3) over all six cells: means 10 + 2.5 and 20 + 2.5.
  assert.deepEqual(Array.from(frameContext(x, [1, 3])), [12.5, 22.5]);
  // Only the frame's cells vote: columns 1–2 of row 1 are cells 4 and 5 → 4.5 above each channel's base.
  const framed = { ...x, frame: { x0: 1, y0: 1, x1: 3, y1: 2 } };
  assert.deepEqual(Array.from(frameContext(framed, [0, 3])), [4.5, 14.5, 24.5]);
  assert.throws(() => frameContext(x, [2, 4]), LafiteError);
  assert.throws(() => frameContext(x, [2, 2]), LafiteError);
});

test("contextRows and withContext: λ·context appended to each row and, constant over the grid, to each position", () => {
  // Two rows of two values, contexts (1) and (−2), λ 3.
  assert.deepEqual(Array.from(contextRows(Float32Array.of(1, 2, 3, 4), 2, 2, Float32Array.of(1, -2), 1, 3)), [1, 2, 3, 3, 4, -6]);
  assert.throws(() => contextRows(Float32Array.of(1, 2, 3), 2, 2, Float32Array.of(1, 2), 1, 1), LafiteError);
  const x = mapOf(1, 1, 2, (_, __, xx) => xx + 1, { x0: 0, y0: 0, x1: 1, y1: 1 });
  const q = withContext(x, Float32Array.of(0.5, -1), 2);
  assert.equal(q.c, 3);
  assert.deepEqual(Array.from(q.data), [1, 2, 1, 1, -2, -2]);
  assert.deepEqual(q.frame, x.frame);
  // The stored rows are unscaled; the search's are λ times the context columns.
  assert.deepEqual(Array.from(scaledContextRows({ rows: Float32Array.of(1, 2, 3, 4, 5, 6), size: 2, c: 2, channels: [0, 1] }, 10)), [1, 2, 30, 4, 5, 60]);
});

test("contextChannelsOf: the coarsest stage's channels, or all of them when the stage widths are not known", () => {
  assert.deepEqual(contextChannelsOf([16, 40, 64], 120), [56, 120]);
  assert.deepEqual(contextChannelsOf(undefined, 120), [0, 120]);
  assert.throws(() => contextChannelsOf([16, 40], 120), LafiteError);
  assert.equal(contextInUse(undefined), false);
  assert.equal(contextInUse({ lambda: 4, weight: 0, classWeights: { a: 0 } }), false);
  assert.equal(contextInUse({ lambda: 4, weight: 0, classWeights: { a: 0, b: 0.5 } }), true);
});

/**
 * Frames of one class in two kinds: every cell of a frame is plain plate
 * (all channels 0) except one "part" cell whose coarse channel is +3 in kind
 * A and −3 in kind B. The plate is the same in both kinds, so a coreset
 * chosen on the features keeps one plate row; chosen with the context it
 * must keep plate rows of both kinds (the kit's failure: a brass frame's
 * plate found only steel-frame rows).
 */
function twoKindBank(frames: number): { bank: FeatureMap[]; classes: string[] } {
  const bank: FeatureMap[] = [];
  for (let i = 0; i < frames; i++) {
    const sign = i % 2 === 0 ? 3 : -3;
    bank.push(mapOf(2, 2, 2, (ch, y, x) => (ch === 1 && y === 0 && x === 0 ? sign : 0)));
  }
  return { bank, classes: bank.map(() => "kit") };
}

test("contextCoreset: rows chosen with the context keep the plate of both kinds of frame, stored unscaled with their class", async () => {
  const { bank, classes } = twoKindBank(6);
  const chosen = await contextCoreset(bank, classes, ["other", "kit"], { kit: 4 }, { candidates: 1000, sampling: "uniform", seed: 1, projectionDim: 64, lambda: 2, channels: [1, 2] });
  assert.equal(chosen.size, 4);
  assert.equal(chosen.c, 2);
  assert.deepEqual(Array.from(chosen.classes), [1, 1, 1, 1]);
  // Row = [ch0, ch1, context]: contexts are ±0.75 (one cell of four at ±3), stored unscaled.
  const rows = Array.from({ length: 4 }, (_, r) => Array.from(chosen.rows.subarray(r * 3, r * 3 + 3)));
  for (const r of rows) assert.ok(Math.abs(Math.abs(r[2]!) - 0.75) < 1e-6, `context ${r[2]}`);
  const plate = rows.filter((r) => r[1] === 0).map((r) => Math.sign(r[2]!));
  assert.deepEqual(plate.sort(), [-1, 1], `plate rows by kind: ${JSON.stringify(rows)}`);
  // Four distinct points exist (part and plate of each kind): k-center takes all four, so its covering radius is 0.
  assert.equal(chosen.coverageRadius, 0);
  await assert.rejects(contextCoreset(bank, classes, ["other"], { kit: 4 }, { candidates: 1000, sampling: "uniform", seed: 1, projectionDim: 64, lambda: 2, channels: [1, 2] }), LafiteError);
});

test("frameContextWeight: the largest W among the classes with at least a fifth of the frame's votes; the model's W when none voted", () => {
  const c = { weight: 0.1, classWeights: Float64Array.of(0, 0.5, 1) };
  // Class 2 holds 3 of 20 votes (under a fifth), class 1 holds 5 (a quarter): W 0.5.
  assert.equal(frameContextWeight(c, Int32Array.of(12, 5, 3)), 0.5);
  // Exactly a fifth counts.
  assert.equal(frameContextWeight(c, Int32Array.of(16, 0, 4)), 1);
  assert.equal(CONTEXT_MIN_SHARE, 0.2);
  assert.equal(frameContextWeight(c, Int32Array.of(20, 0, 0)), 0);
  assert.equal(frameContextWeight(c, Int32Array.of(0, 0, 0)), 0.1);
  assert.equal(frameContextWeight(c, undefined), 0.1);
  assert.equal(frameContextWeight({ weight: 0.3 }, Int32Array.of(1, 1, 1)), 0.3);
  assert.equal(frameContextWeight(undefined, Int32Array.of(1, 1, 1)), 0);
  // A caller's class (a line's recipe) decides alone, whatever the votes.
  assert.equal(frameContextWeight(c, Int32Array.of(20, 0, 0), 2), 1);
  assert.equal(frameContextWeight(c, Int32Array.of(0, 0, 20), 0), 0);
});

test("frameContextClass: the class whose W an unnamed frame gets; -1 when that W is 0 or none voted", () => {
  const w = Float64Array.of(0, 0.5, 1);
  assert.equal(frameContextClass(w, Int32Array.of(12, 5, 3)), 1);
  assert.equal(frameContextClass(w, Int32Array.of(16, 0, 4)), 2);
  // Class 0 holds every vote but has W 0: no context search served the frame.
  assert.equal(frameContextClass(w, Int32Array.of(20, 0, 0)), -1);
  assert.equal(frameContextClass(w, Int32Array.of(0, 0, 0)), -1);
  // Equal W: the lower index.
  assert.equal(frameContextClass(Float64Array.of(0.5, 0.5), Int32Array.of(10, 10)), 0);
});
