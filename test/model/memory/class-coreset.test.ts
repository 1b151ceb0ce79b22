import { test } from "node:test";
import assert from "node:assert/strict";
import { classCoreset, classCoresetWork, interleave, slicesClasses } from "../../../src/model/memory/class-coreset.js";
import { greedyCoreset, greedyCoresetSelectionAsync } from "../../../src/model/memory/coreset.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { coveringRadius, gaussianData, slowKCenter } from "../../support/k-center-reference.js";

test("initial picks come first, in order, and the rest continue greedy k-center from them (slow reference, pruned or not, 1 or 2 threads)", () => {
  const n = 200, c = 6;
  const x = gaussianData(n, c, 31);
  const initial = Int32Array.from([17, 3, 150]);
  const expected = slowKCenter(x, n, c, 12, [...initial]);
  for (const prune of [true, false]) {
    for (const threads of [1, 2]) {
      const picks = greedyCoreset(x, n, c, 12, { projectionDim: 64, seed: 9, initial, prune, threads });
      assert.deepEqual([...picks], expected, `prune ${prune}, threads ${threads}`);
    }
  }
});

test("initial picks: as many as the coreset is big means exactly those, and the covering radius is theirs", async () => {
  const n = 80, c = 4;
  const x = gaussianData(n, c, 5);
  const initial = Int32Array.from([4, 60, 33, 2]);
  const sel = await greedyCoresetSelectionAsync(x, n, c, 4, { projectionDim: 64, initial });
  assert.deepEqual([...sel.selected], [...initial]);
  assert.ok(Math.abs(sel.coverageRadius - coveringRadius(x, n, c, [...initial])) < 1e-5);
});

test("initial picks are checked: in range, distinct, not more than the coreset", () => {
  const x = gaussianData(20, 3, 1);
  const bad = (initial: number[], count = 5) => () => greedyCoreset(x, 20, 3, count, { initial: Int32Array.from(initial) });
  for (const [initial, count, what] of [[[1, 1], 5, /appears twice/], [[20], 5, /not a row index below 20/], [[-1], 5, /not a row index/], [[1, 2, 3], 2, /exceed the coreset size 2/]] as const) {
    assert.throws(bad([...initial], count), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && what.test(e.message));
  }
});

/** Rows 0–99 of class 0 (a wide cluster mix), 100–124 of class 1 (one tight cluster far away). */
function twoClasses(): { x: Float32Array; rowClass: Int32Array; n: number; c: number } {
  const c = 5;
  const a = gaussianData(100, c, 2);
  const b = gaussianData(125, c, 3).subarray(0, 25 * c).map((v) => v * 0.1 + 20);
  const x = new Float32Array(125 * c);
  x.set(a);
  x.set(b, 100 * c);
  return { x, rowClass: Int32Array.from({ length: 125 }, (_, i) => (i < 100 ? 0 : 1)), n: 125, c };
}

test("share 0 is the global greedy selection, pick for pick", async () => {
  const { x, rowClass, n, c } = twoClasses();
  const sel = await classCoreset(x, n, c, 12, rowClass, 0, { projectionDim: 64, seed: 4 });
  assert.deepEqual([...sel.selected], [...greedyCoreset(x, n, c, 12, { projectionDim: 64, seed: 4 })]);
  assert.equal(sel.rowsPerClass.reduce((s, v) => s + v, 0), 12);
});

test("share 1: rows split ∝ √(class candidates), each class's picks are its own greedy selection, radius the largest class radius", async () => {
  const { x, rowClass, n, c } = twoClasses();
  // √100 : √25 = 10 : 5, so 6 rows split 4 and 2.
  const sel = await classCoreset(x, n, c, 6, rowClass, 1, { projectionDim: 64, seed: 4 });
  assert.deepEqual(sel.rowsPerClass, [4, 2]);
  const own0 = greedyCoreset(x.subarray(0, 100 * c), 100, c, 4, { projectionDim: 64, seed: 4 });
  const own1 = greedyCoreset(x.subarray(100 * c), 25, c, 2, { projectionDim: 64, seed: 4 });
  assert.deepEqual([...sel.selected], [...own0, ...Array.from(own1, (i) => i + 100)]);
  const r0 = coveringRadius(x.subarray(0, 100 * c), 100, c, [...own0]);
  const r1 = coveringRadius(x.subarray(100 * c), 25, c, [...own1]);
  assert.ok(Math.abs(sel.coverageRadius - Math.max(r0, r1)) < 1e-5);
});

test("share 0.5: the per-class picks first, then greedy k-center over all rows from them (slow reference)", async () => {
  const { x, rowClass, n, c } = twoClasses();
  const sel = await classCoreset(x, n, c, 10, rowClass, 0.5, { projectionDim: 64, seed: 8 });
  const first = [...(await classCoreset(x, n, c, 5, rowClass, 1, { projectionDim: 64, seed: 8 })).selected];
  assert.deepEqual([...sel.selected], slowKCenter(x, n, c, 10, first));
  assert.ok(Math.abs(sel.coverageRadius - coveringRadius(x, n, c, [...sel.selected])) < 1e-5);
});

test("interleave takes the lists in turn, longer lists finishing alone", () => {
  assert.deepEqual([...interleave([[1, 2, 3], [10], [20, 21]])], [1, 10, 20, 2, 21, 3]);
  assert.deepEqual([...interleave([])], []);
});

test("the global pass from the classes' picks in turn picks what it picks from them class by class, and measures fewer distances", async () => {
  // Three far-apart classes of 150 rows each.
  const c = 5, per = 150, n = 3 * per;
  const x = new Float32Array(n * c);
  for (let k = 0; k < 3; k++) x.set(gaussianData(per, c, 40 + k).map((v) => v + 30 * k), k * per * c);
  const rowClass = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  const opts = { projectionDim: 64, seed: 2, threads: 1 };
  const sel = await classCoreset(x, n, c, 40, rowClass, 0.75, opts);
  const classPicks = [...sel.selected.subarray(0, 30)];
  assert.deepEqual(sel.rowsPerClass.length, 3);
  const byClass = [0, 1, 2].map((k) => classPicks.filter((i) => rowClass[i] === k));
  assert.deepEqual(classPicks, byClass.flat(), "the per-class picks come first, class by class");
  const inOrder = await greedyCoresetSelectionAsync(x, n, c, 40, { ...opts, initial: Int32Array.from(classPicks) });
  const inTurn = await greedyCoresetSelectionAsync(x, n, c, 40, { ...opts, initial: interleave(byClass) });
  assert.deepEqual([...sel.selected], [...inOrder.selected], "same rows, same order as the class-by-class pass");
  assert.deepEqual([...inTurn.selected.subarray(30)], [...inOrder.selected.subarray(30)], "the same global picks either way");
  assert.equal(sel.coverageRadius, inOrder.coverageRadius);
  assert.ok(inTurn.scanFraction < 0.8 * inOrder.scanFraction, `in turn ${inTurn.scanFraction}, class by class ${inOrder.scanFraction}`);
  assert.deepEqual([...sel.selected], slowKCenter(x, n, c, 40, classPicks));
});

test("progress rises from 0 to its total: each per-class pick, the cover's search as the initial picks, then each global pick", async () => {
  const { x, rowClass, n, c } = twoClasses();
  const seen: Array<[number, number]> = [];
  await classCoreset(x, n, c, 10, rowClass, 0.5, { projectionDim: 64, onProgress: (d, t) => seen.push([d, t]) });
  // 5 per-class picks (1–5); the search, a class's rows at a time, as a share of the global pass's 5 initial picks (up to 10); its 5 more picks (11–15).
  const done = seen.map(([d]) => d);
  assert.deepEqual(done.slice(0, 5), [1, 2, 3, 4, 5]);
  assert.deepEqual(done.slice(-6), [10, 11, 12, 13, 14, 15]);
  assert.ok(done.every((v, i) => i === 0 || v > done[i - 1]!), `rising: ${done}`);
  assert.ok(seen.every(([, t]) => t === 15));
});

test("the global pass starts from a searched cover of the classes' picks: the same picks as the scan per pick and the slow reference, 1 or 2 threads, projected or not", async () => {
  const c = 12, per = 160, n = 4 * per;
  const x = new Float32Array(n * c);
  // Four classes, two overlapping, so other classes' picks are sometimes nearer than a row's own.
  for (let k = 0; k < 4; k++) x.set(gaussianData(per, c, 60 + k).map((v) => v + 4 * Math.min(k, 2)), k * per * c);
  const rowClass = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  for (const projectionDim of [64, 8]) {
    const reference = await classCoreset(x, n, c, 48, rowClass, 0.75, { projectionDim, seed: 5, prune: false, threads: 1 });
    assert.equal(reference.searchFraction, 0, "without pruning the global pass scans every initial pick");
    for (const threads of [1, 2]) {
      const sel = await classCoreset(x, n, c, 48, rowClass, 0.75, { projectionDim, seed: 5, threads });
      assert.deepEqual([...sel.selected], [...reference.selected], `projection ${projectionDim}, threads ${threads}`);
      assert.equal(sel.coverageRadius, reference.coverageRadius);
      assert.equal(sel.searchFraction, 36 / 48);
    }
    if (projectionDim >= c) assert.deepEqual([...reference.selected], slowKCenter(x, n, c, 48, [...reference.selected.subarray(0, 36)]));
  }
});

test("bad arguments are refused", async () => {
  const { x, rowClass, n, c } = twoClasses();
  await assert.rejects(classCoreset(x, n, c, 5, rowClass, 1.5), /share 1.5 must be between 0 and 1/);
  await assert.rejects(classCoreset(x, n, c, 5, rowClass.subarray(1), 1), /124 row classes for 125/);
  await assert.rejects(classCoreset(x, n, c, 5, rowClass, 1, { initial: Int32Array.from([0]) }), /chooses its own initial picks/);
});

test("classCoresetWork: hand-computed distance updates", () => {
  // Share 1: 4 picks over 100 rows and 2 over 25.
  assert.equal(classCoresetWork(6, [100, 25], 1), 4 * 100 + 2 * 25);
  // Share 0.5: 3 rows split 2 / 1, then the global pass of all 6 picks over 125 rows.
  // Share 0.5: 2 + 1 picks within the classes; the global pass's 3 remaining picks over all 125 rows, and the search of 125 rows × 3 picks at 16 distances an update.
  assert.equal(classCoresetWork(6, [100, 25], 0.5), 2 * 100 + 1 * 25 + 3 * 125 + (3 * 125) / 16);
  assert.equal(classCoresetWork(6, [100, 25], 0), 6 * 125);
});

test("slicesClasses: the class of each slice id, classes sorted by name", () => {
  const { rowClass, classes } = slicesClasses(Int32Array.from([0, 3, 4, 9, 11]), ["nut", "cloth", "nut"], 4);
  assert.deepEqual(classes, ["cloth", "nut"]);
  assert.deepEqual([...rowClass], [1, 1, 0, 1, 1]);
});
