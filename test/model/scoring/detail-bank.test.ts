import { test } from "node:test";
import assert from "node:assert/strict";
import { blendPositionScores, channelSlice, classWeightTable, detailInUse, normalizerOf, rowSlice, stageChannelRange } from "../../../src/model/scoring/detail-bank.js";
import { detailWeightOf } from "../../../src/pipeline/frame-scorer.js";
import { frameClass } from "../../../src/model/memory/row-classes.js";
import { LafiteError } from "../../../src/util/errors.js";

test("normalizerOf: mean and population deviation over every map's values, hand-computed", () => {
  // values 1, 3, 5, 7: mean 4, deviations ±1, ±3 → variance (1+9+1+9)/4 = 5
  const n = normalizerOf([Float32Array.of(1, 3), Float32Array.of(5, 7)]);
  assert.equal(n.mean, 4);
  assert.ok(Math.abs(n.sd - Math.sqrt(5)) < 1e-12);
  // A constant bank scores every position alike: any positive scale ranks the same, and none divides by zero.
  assert.deepEqual(normalizerOf([Float32Array.of(2, 2, 2)]), { mean: 2, sd: 1 });
  assert.throws(() => normalizerOf([]), LafiteError);
});

test("blendPositionScores: the standardized blend in the main bank's units, hand-computed", () => {
  const nMain = { mean: 10, sd: 2 };
  const nDetail = { mean: 1, sd: 0.5 };
  const main = Float32Array.of(10, 14, 8);
  const detail = Float32Array.of(1, 1, 2.5);
  // W = 0: exactly the main scores.
  assert.deepEqual(Array.from(blendPositionScores(main, detail, 0, nMain, nDetail)), [10, 14, 8]);
  // W = 1: the detail z-scores in main units: 10 + 2·(d − 1)/0.5 → 10, 10, 16.
  assert.deepEqual(Array.from(blendPositionScores(main, detail, 1, nMain, nDetail)), [10, 10, 16]);
  // W = 0.25: z_m = 0, 2, −1; z_d = 0, 0, 3 → blend 0, 1.5, 0 → 10, 13, 10.
  const quarter = Array.from(blendPositionScores(main, detail, 0.25, nMain, nDetail));
  [10, 13, 10].forEach((v, i) => assert.ok(Math.abs(quarter[i]! - v) < 1e-5, `${quarter[i]} vs ${v}`));
  // Far below both means the blend would go negative; scores stay ≥ 0 as the pixel metrics require.
  assert.equal(blendPositionScores(Float32Array.of(0), Float32Array.of(0), 1, nMain, { mean: 1, sd: 0.1 })[0], 0); // 10 + 2·(0 − 1)/0.1 = −10
});

test("blendPositionScores: against the formula written out per position", () => {
  const nMain = { mean: 3.7, sd: 1.3 };
  const nDetail = { mean: 0.9, sd: 0.21 };
  const main = Float32Array.from({ length: 50 }, (_, i) => 2 + ((i * 37) % 11) / 3);
  const detail = Float32Array.from({ length: 50 }, (_, i) => 0.5 + ((i * 13) % 7) / 9);
  for (const w of [0.2, 0.33, 0.5]) {
    const got = blendPositionScores(main, detail, w, nMain, nDetail);
    main.forEach((m, i) => {
      const z = (1 - w) * ((m - nMain.mean) / nMain.sd) + w * ((detail[i]! - nDetail.mean) / nDetail.sd);
      const want = Math.max(0, nMain.mean + nMain.sd * z);
      assert.ok(Math.abs(got[i]! - want) < 1e-4, `W ${w} [${i}]: ${got[i]} vs ${want}`);
    });
  }
  assert.throws(() => blendPositionScores(main, detail.subarray(1), 0.5, nMain, nDetail), LafiteError);
  assert.throws(() => blendPositionScores(main, detail, 1.5, nMain, nDetail), LafiteError);
});

test("channelSlice and rowSlice pick the same channels of a map and of its rows", () => {
  // 3 channels × 2 positions, channel-major: channel ch at position p holds 10·ch + p.
  const x = { c: 3, h: 1, w: 2, data: Float32Array.of(0, 1, 10, 11, 20, 21) };
  assert.deepEqual(Array.from(channelSlice(x, [1, 3]).data), [10, 11, 20, 21]);
  assert.equal(channelSlice(x, [0, 3]), x);
  // The same two positions as rows (position-major): row p is [p, 10 + p, 20 + p].
  const rows = Float32Array.of(0, 10, 20, 1, 11, 21);
  assert.deepEqual(Array.from(rowSlice(rows, 2, 3, [1, 3])), [10, 20, 11, 21]);
  assert.throws(() => rowSlice(rows, 2, 3, [2, 4]), LafiteError);
  assert.throws(() => rowSlice(rows, 3, 3, [0, 1]), LafiteError);
});

test("stageChannelRange: a contiguous run of stages in the backbone's order", () => {
  const stages = ["block_2_add", "block_5_add", "block_9_add"];
  const widths = [24, 32, 64];
  assert.deepEqual(stageChannelRange(stages, widths, ["block_2_add", "block_5_add"]), [0, 56]);
  assert.deepEqual(stageChannelRange(stages, widths, ["block_5_add", "block_9_add"]), [24, 120]);
  assert.deepEqual(stageChannelRange(stages, widths, ["block_5_add"]), [24, 56]);
  assert.throws(() => stageChannelRange(stages, widths, ["block_2_add", "block_9_add"]), /not a run/);
  assert.throws(() => stageChannelRange(stages, widths, ["block_5_add", "block_2_add"]), /not a run/);
  assert.throws(() => stageChannelRange(stages, widths, ["block_7_add"]), /not a run/);
  assert.throws(() => stageChannelRange(stages, widths, stages), /repeat the main one/);
});

test("per-class weights: a table by the bank's class names, the model's W for a class without one; in use when any W is above 0", () => {
  assert.deepEqual([...classWeightTable(["a", "b", "(untagged)"], { b: 0.5, a: 0 }, 0.25)], [0, 0.5, 0.25]);
  assert.deepEqual([...classWeightTable(["a"], undefined, 0.33)].map((v) => +v.toFixed(6)), [0.33]);
  const base = { stages: ["s"], channels: [0, 1] as const, weight: 0 };
  assert.equal(detailInUse(undefined), false);
  assert.equal(detailInUse(base), false);
  assert.equal(detailInUse({ ...base, classWeights: { a: 0 } }), false);
  assert.equal(detailInUse({ ...base, classWeights: { a: 0, b: 0.2 } }), true);
  assert.equal(detailInUse({ ...base, weight: 0.2 }), true);
});

test("detailWeightOf: the frame's class's W, read off its nearest rows; the model's W without per-class weights or without a search", () => {
  const rowClass = Int32Array.from([0, 0, 1, 1]);
  const classWeights = Float64Array.from([0, 0.5]);
  const row = { w: 3 }; // a 1×3 grid, every cell showing the frame
  const read = (nearest: Int32Array, grid: { w: number; frame?: { x0: number; y0: number; x1: number; y1: number } }) => frameClass(nearest, rowClass, classWeights.length, grid);
  assert.equal(detailWeightOf({ weight: 0.2, classWeights }, read(Int32Array.from([2, 3, 0]), row)), 0.5);
  assert.equal(detailWeightOf({ weight: 0.2, classWeights }, read(Int32Array.from([0, 1, 2]), row)), 0);
  assert.equal(detailWeightOf({ weight: 0.2, classWeights }, read(Int32Array.from([]), { w: 0 })), 0.2); // no vote: the model's
  assert.equal(detailWeightOf({ weight: 0.2, classWeights }, -1), 0.2); // no search, so no class read
  assert.equal(detailWeightOf({ weight: 0.2 }, read(Int32Array.from([2]), { w: 1 })), 0.2);
  // Letterboxed: only the cells that show the frame vote (here the middle one, class 1), not the border's two class-0 rows.
  assert.equal(detailWeightOf({ weight: 0.2, classWeights }, read(Int32Array.from([0, 2, 1]), { w: 3, frame: { x0: 1, y0: 0, x1: 2, y1: 1 } })), 0.5);
});
