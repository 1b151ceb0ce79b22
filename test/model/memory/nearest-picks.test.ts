import { test } from "node:test";
import assert from "node:assert/strict";
import { nearestInitialPicks } from "../../../src/model/memory/nearest-picks.js";
import { sqDistAt } from "../../../src/model/memory/row-distance.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { gaussianData, sqDist } from "../../support/k-center-reference.js";

/** Rows of x (n×d) in `parts` groups by row index mod parts, each with its own copy of its points. */
function groupsOf(x: Float32Array, n: number, d: number, parts: number): { points: Float32Array; rows: number[] }[] {
  return Array.from({ length: parts }, (_, g) => {
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % parts === g);
    const points = new Float32Array(rows.length * d);
    rows.forEach((r, j) => points.set(x.subarray(r * d, r * d + d), j * d));
    return { points, rows };
  });
}

function picksOf(x: Float32Array, d: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, j) => out.set(x.subarray(r * d, r * d + d), j * d));
  return out;
}

test("every row's nearest pick and squared distance equal a brute-force scan's, exactly", async () => {
  const n = 600, d = 24;
  const x = gaussianData(n, d, 12);
  const initial = Array.from({ length: 90 }, (_, j) => (j * 37) % n);
  const found = await nearestInitialPicks(picksOf(x, d, initial), initial.length, d, groupsOf(x, n, d, 3), n, { threads: 1 });
  let differentOwner = 0;
  for (let i = 0; i < n; i++) {
    const all = initial.map((p) => sqDist(x, d, i, p));
    const m = Math.min(...all);
    // The reference sums in another order, so allow its rounding; the kernel's own value is checked below.
    assert.ok(Math.abs(found.minDist[i]! - m) <= 1e-9 * Math.max(1, m), `row ${i}: ${found.minDist[i]} against ${m}`);
    if (all.indexOf(m) !== found.owner[i]) differentOwner++;
    assert.equal(found.minDist[i], sqDistAt(x, i * d, x, initial[found.owner[i]!]! * d, d), "the selection kernel's value for that pair");
  }
  assert.equal(differentOwner, 0);
  for (const [j, r] of initial.entries()) assert.equal(found.minDist[r], 0, `pick ${j} is its own nearest`);
  assert.equal(found.fullScans, 0);
});

test("the same values as the selection's kernel: a pruned coreset from this cover picks what a scan per initial pick picks", async () => {
  const { greedyCoreset } = await import("../../../src/model/memory/coreset.js");
  const n = 400, d = 16;
  const x = gaussianData(n, d, 3);
  const initial = Int32Array.from({ length: 40 }, (_, j) => (j * 53 + 7) % n);
  const cover = await nearestInitialPicks(picksOf(x, d, [...initial]), initial.length, d, groupsOf(x, n, d, 2), n, { threads: 1 });
  for (const threads of [1, 2]) {
    const plain = greedyCoreset(x, n, d, 70, { projectionDim: d, initial, threads });
    const covered = greedyCoreset(x, n, d, 70, { projectionDim: d, initial, initialCover: cover, threads });
    assert.deepEqual([...covered], [...plain], `threads ${threads}`);
  }
});

test("rows whose proposals cannot be confirmed are measured against every pick: equidistant picks", async () => {
  // The row at the origin has 8 picks at squared distance 1 (±eᵢ): with 4 proposals the 4th equals the nearest, so no bound confirms it.
  const d = 4;
  const pickRows: number[][] = [];
  for (let t = 0; t < d; t++) for (const s of [1, -1]) pickRows.push(Array.from({ length: d }, (_, u) => (u === t ? s : 0)));
  pickRows.push([5, 5, 5, 5]);
  const picks = Float32Array.from(pickRows.flat());
  const points = Float32Array.from([0, 0, 0, 0, 5, 5, 5, 4.5]);
  const found = await nearestInitialPicks(picks, pickRows.length, d, [{ points, rows: [0, 1] }], 2, { threads: 1 });
  assert.equal(found.minDist[0], 1);
  assert.ok(found.owner[0]! < 8);
  assert.equal(found.minDist[1], 0.25);
  assert.equal(found.owner[1], 8);
  assert.equal(found.fullScans, 1);
});

test("progress counts rows; an aborted signal stops the search with CANCELLED", async () => {
  const n = 300, d = 8;
  const x = gaussianData(n, d, 4);
  const seen: number[] = [];
  await nearestInitialPicks(picksOf(x, d, [0, 10, 20]), 3, d, groupsOf(x, n, d, 2), n, { threads: 1, onProgress: (done, total) => (assert.equal(total, n), seen.push(done)) });
  assert.equal(seen.at(-1), n);
  assert.ok(seen.every((v, i) => i === 0 || v > seen[i - 1]!));
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(nearestInitialPicks(picksOf(x, d, [0]), 1, d, groupsOf(x, n, d, 1), n, { signal: ac.signal }), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED);
});

test("bad input is refused: sizes, a row twice, rows missing", async () => {
  const d = 2;
  const picks = Float32Array.from([0, 0, 1, 1]);
  const bad = (what: RegExp, run: () => Promise<unknown>) => assert.rejects(run(), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && what.test(e.message));
  await bad(/not 3×2/, () => nearestInitialPicks(picks, 3, d, [], 0));
  await bad(/has 3 values, not 2×2/, () => nearestInitialPicks(picks, 2, d, [{ points: new Float32Array(3), rows: [0, 1] }], 2));
  await bad(/appears twice/, () => nearestInitialPicks(picks, 2, d, [{ points: new Float32Array(4), rows: [0, 0] }], 2));
  await bad(/hold 2 rows, not 3/, () => nearestInitialPicks(picks, 2, d, [{ points: new Float32Array(4), rows: [0, 1] }], 3));
});
