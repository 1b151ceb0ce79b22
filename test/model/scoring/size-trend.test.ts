/**
 * The size correction's math against hand-computed values: the log-log line
 * of score on long side, its r and t, the factor with its clamp, which
 * classes keep a trend, and the manifest check.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseSizeTrends, describeSizeChoice, fitSizeTrend, keepsSizeTrend, longSide, sizeFactor, sizeTrendsProblem, SIZE_MIN_NORMALS, type SizeTrends } from "../../../src/model/scoring/size-trend.js";
import { LafiteError } from "../../../src/util/errors.js";

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} is not ${b}`);

test("the line of log score on log long side, by hand: x = 0, 1, 2 and y = 1, 3, 2 give slope 0.5, r 0.5, t 0.5/√0.75", () => {
  const f = fitSizeTrend([1, Math.E, Math.E ** 2], [Math.E, Math.E ** 3, Math.E ** 2])!;
  close(f.slope, 0.5);
  close(f.center, 1);
  close(f.r, 0.5);
  close(f.t, 0.5 / Math.sqrt(0.75));
  assert.equal(f.normals, 3);
  close(f.minSide, 1);
  close(f.maxSide, Math.E ** 2);
  close(f.spread, Math.E ** 2);
});

test("scores that are an exact power of the size give that power, r −1 and the largest t", () => {
  const sides = [100, 200, 400];
  const f = fitSizeTrend(sides, sides.map((s) => 1000 * s ** -0.5))!;
  close(f.slope, -0.5);
  close(f.center, Math.log(200));
  close(f.r, -1);
  assert.equal(f.t, -Number.MAX_VALUE);
  assert.equal(f.spread, 4);
});

test("frames of one size have no trend; fewer than 3 normals no line; bad input is refused", () => {
  const flat = fitSizeTrend([300, 300, 300, 300], [1, 2, 3, 4])!;
  assert.equal(flat.slope, 0);
  assert.equal(flat.r, 0);
  assert.equal(flat.spread, 1);
  assert.equal(keepsSizeTrend(flat), false);
  assert.equal(fitSizeTrend([100, 200], [1, 2]), undefined);
  assert.throws(() => fitSizeTrend([100, 200, 300], [1, 2]), LafiteError);
  assert.throws(() => fitSizeTrend([100, 200, 300], [1, 0, 2]), /not a positive number/);
  assert.throws(() => fitSizeTrend([100, Number.NaN, 300], [1, 1, 2]), /not a size/);
});

test("a frame's factor is (L / e^center)^−slope, with L clamped to the normals' range", () => {
  const trend = { slope: -0.5, center: Math.log(200), minSide: 100, maxSide: 400 };
  close(sizeFactor(trend, 200), 1);
  close(sizeFactor(trend, 400), Math.SQRT2);
  close(sizeFactor(trend, 800), Math.SQRT2, 1e-12);
  close(sizeFactor(trend, 50), 1 / Math.SQRT2, 1e-12);
  close(sizeFactor({ ...trend, slope: 0.25 }, 100), 2 ** 0.25, 1e-12);
  assert.equal(longSide({ width: 320, height: 240 }), 320);
  assert.equal(longSide({ width: 220, height: 630 }), 630);
});

test("which classes keep a trend: enough normals, sizes spread, |t| ≥ 1", () => {
  const fit = { slope: -0.2, center: 5, minSide: 100, maxSide: 200, normals: 20, spread: 2, r: -0.5, t: -2.5 };
  assert.equal(keepsSizeTrend(fit), true);
  assert.equal(keepsSizeTrend({ ...fit, t: -0.9 }), false);
  assert.equal(keepsSizeTrend({ ...fit, t: 1.2 }), true);
  assert.equal(keepsSizeTrend({ ...fit, spread: 1.2 }), false);
  assert.equal(keepsSizeTrend({ ...fit, normals: SIZE_MIN_NORMALS - 1 }), false);
  assert.equal(keepsSizeTrend({ ...fit, spread: 1.2 }, 1.1), true);
});

test("chooseSizeTrends: the class whose normals follow their size keeps it; one size, or too few normals, do not", () => {
  const samples: { cls: string; side: number; score: number }[] = [];
  // tiles: score ∝ L^−0.3 with a small wobble that keeps r far from 0; nuts: all 256 px; few: 5 normals of varied size.
  for (let i = 0; i < 12; i++) {
    const side = 100 + 40 * i;
    samples.push({ cls: "tiles", side, score: 50 * side ** -0.3 * (1 + 0.01 * ((i % 3) - 1)) });
    samples.push({ cls: "nuts", side: 256, score: 5 + (i % 4) });
  }
  for (let i = 0; i < 5; i++) samples.push({ cls: "few", side: 100 * (i + 1), score: 10 / (i + 1) });
  const { sizes, record } = chooseSizeTrends(samples, "knn");
  assert.deepEqual(Object.keys(record.classes), ["few", "nuts", "tiles"]);
  assert.deepEqual(Object.keys(sizes!.classes), ["tiles"]);
  assert.equal(sizes!.mode, "knn");
  assert.equal(record.classes.tiles!.chosen, true);
  assert.equal(record.classes.nuts!.chosen, false);
  assert.equal(record.classes.few!.chosen, false, "5 normals are too few whatever their line");
  const tiles = fitSizeTrend(samples.filter((s) => s.cls === "tiles").map((s) => s.side), samples.filter((s) => s.cls === "tiles").map((s) => s.score))!;
  close(sizes!.classes.tiles!.slope, tiles.slope, 1e-6);
  assert.equal(sizes!.classes.tiles!.minSide, 100);
  assert.equal(sizes!.classes.tiles!.maxSide, 540);
  // Only the classes whose sizes vary are named, in class order; the one of one size is not.
  assert.match(describeSizeChoice(record), /^size correction \(knn mode, [^)]*\): few 5 normals, long side 100–500 px, slope -1\.000, r -1\.00, t -∞ \(an exact line\); tiles 12 normals, long side 100–540 px, slope -0\.[23]\d\d, r -\d\.\d\d, t -\d+\.\d \(kept\); kept for tiles$/);
  assert.equal(chooseSizeTrends(samples.filter((s) => s.cls === "nuts"), "lafite").sizes, undefined);
  assert.match(describeSizeChoice(chooseSizeTrends(samples.filter((s) => s.cls === "nuts"), "lafite").record), /no class has frames of varied sizes; kept for no class/);
});

test("a manifest's trends are checked", () => {
  const ok: SizeTrends = { mode: "knn", classes: { tiles: { slope: -0.1, center: 5.5, minSide: 128, maxSide: 609 } } };
  assert.equal(sizeTrendsProblem(ok), undefined);
  assert.match(sizeTrendsProblem({ mode: "knn", classes: { tiles: { slope: Number.NaN, center: 5.5, minSide: 128, maxSide: 609 } } })!, /scoring\.sizes\.classes\.tiles/);
  assert.match(sizeTrendsProblem({ mode: "knn", classes: { tiles: { slope: -0.1, center: 5.5, minSide: 700, maxSide: 609 } } })!, /minSide ≤ maxSide/);
  assert.match(sizeTrendsProblem({ mode: "knn", classes: { tiles: null } } as unknown as SizeTrends)!, /tiles/);
  assert.match(sizeTrendsProblem({ mode: "knn", classes: null } as unknown as SizeTrends)!, /not an object/);
});
