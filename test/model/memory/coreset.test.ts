import { test } from "node:test";
import assert from "node:assert/strict";
import { greedyCoreset, greedyCoresetAsync } from "../../../src/model/memory/coreset.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { gaussianData, slowKCenter, sqDist } from "../../support/k-center-reference.js";

test("1-D hand case: farthest point first, ties to the lower index, whatever the first pick", () => {
  const x = Float32Array.from([0, 1, 5, 10]);
  const expected: Record<number, number[]> = { 0: [0, 3, 2, 1], 1: [1, 3, 2, 0], 2: [2, 0, 3, 1], 3: [3, 0, 2, 1] };
  for (let seed = 0; seed < 8; seed++) {
    const picks = [...greedyCoreset(x, 4, 1, 4, { seed })];
    assert.deepEqual(picks, expected[picks[0]!], `seed ${seed}`);
  }
});

test("without projection (projectionDim ≥ c) it equals the slow reference greedy k-center", () => {
  const n = 150, c = 12;
  const x = gaussianData(n, c, 7);
  const picks = greedyCoreset(x, n, c, 20, { projectionDim: 64, seed: 5, threads: 1 });
  assert.deepEqual([...picks], slowKCenter(x, n, c, 20, [picks[0]!]));
});

test("each pick is the point farthest from the earlier picks (k-center property)", () => {
  const n = 300, c = 8;
  const x = gaussianData(n, c, 11);
  const picks = greedyCoreset(x, n, c, 30, { projectionDim: c, seed: 2, threads: 1 });
  for (let s = 1; s < picks.length; s++) {
    const radius = (i: number) => Math.min(...Array.from(picks.subarray(0, s), (p) => sqDist(x, c, i, p)));
    const chosen = radius(picks[s]!);
    for (let i = 0; i < n; i++) assert.ok(radius(i) <= chosen * (1 + 1e-9), `pick ${s}: point ${i} is farther`);
  }
  assert.equal(new Set(picks).size, picks.length, "no point is picked twice");
});

test("the same seed gives the same coreset; another seed moves the first pick", () => {
  const n = 400, c = 40;
  const x = gaussianData(n, c, 3);
  const a = greedyCoreset(x, n, c, 25, { projectionDim: 16, seed: 9 });
  const b = greedyCoreset(x, n, c, 25, { projectionDim: 16, seed: 9 });
  assert.deepEqual(a, b);
  const firsts = new Set([1, 2, 3, 4, 5].map((seed) => greedyCoreset(x, n, c, 1, { projectionDim: 16, seed })[0]));
  assert.ok(firsts.size > 1, "first pick depends on the seed");
});

test("two threads pick exactly what one thread picks, with and without projection", () => {
  const n = 1001, c = 24;
  const x = gaussianData(n, c, 13);
  for (const projectionDim of [8, 64]) {
    const one = greedyCoreset(x, n, c, 40, { projectionDim, seed: 4, threads: 1 });
    const two = greedyCoreset(x, n, c, 40, { projectionDim, seed: 4, threads: 2 });
    assert.deepEqual(two, one, `projectionDim ${projectionDim}`);
  }
});

test("selecting every row returns a permutation; selecting none returns nothing", () => {
  const x = gaussianData(50, 4, 1);
  const all = greedyCoreset(x, 50, 4, 50, { seed: 1 });
  assert.deepEqual([...all].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(greedyCoreset(x, 50, 4, 0).length, 0);
});

test("progress is reported once per pick", () => {
  const x = gaussianData(60, 4, 1);
  const seen: number[] = [];
  greedyCoreset(x, 60, 4, 5, { onProgress: (done, total) => seen.push(done * 100 + total) });
  assert.deepEqual(seen, [105, 205, 305, 405, 505]);
});

test("an abort between picks stops the selection with CANCELLED, also with a worker", () => {
  const x = gaussianData(500, 6, 1);
  for (const threads of [1, 2]) {
    const controller = new AbortController();
    let calls = 0;
    assert.throws(
      () => greedyCoreset(x, 500, 6, 100, { threads, signal: controller.signal, onProgress: (done) => { calls = done; if (done === 3) controller.abort(); } }),
      (err: unknown) => err instanceof LafiteError && err.code === ErrorCode.CANCELLED,
    );
    assert.equal(calls, 3, `threads ${threads}`);
  }
});

test("the async variant equals the sync one and honours an aborted signal", async () => {
  const x = gaussianData(300, 10, 5);
  const sync = greedyCoreset(x, 300, 10, 30, { projectionDim: 4, seed: 8 });
  assert.deepEqual(await greedyCoresetAsync(x, 300, 10, 30, { projectionDim: 4, seed: 8 }), sync);
  await assert.rejects(greedyCoresetAsync(x, 300, 10, 30, { signal: AbortSignal.abort() }), (err: unknown) => err instanceof LafiteError && err.code === ErrorCode.CANCELLED);
});

test("bad sizes are rejected as invalid input", () => {
  const x = new Float32Array(12);
  assert.throws(() => greedyCoreset(x, 4, 4, 2), LafiteError);
  assert.throws(() => greedyCoreset(x, 4, 3, 5), LafiteError);
  assert.throws(() => greedyCoreset(x, 4, 3, 2, { projectionDim: 0 }), LafiteError);
});

test("the reported covering radius equals the brute-force max distance to the nearest pick, in the projected space", async () => {
  const { coresetProjection, greedyCoresetSelectionAsync } = await import("../../../src/model/memory/coreset.js");
  const n = 200, c = 16, d = 8, seed = 3;
  const x = gaussianData(n, c, 11);
  const sel = await greedyCoresetSelectionAsync(x, n, c, 25, { projectionDim: d, seed, threads: 1 });
  // Independent: project with the exported matrix, then scan all rows against all picks.
  const P = coresetProjection(seed, c, d)!;
  assert.equal(P.length, d * c);
  const proj = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x[i * c + j]! * P[t * c + j]!;
    proj[i * d + t] = s;
  }
  let radius = 0;
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (const p of sel.selected) {
      let s = 0;
      for (let t = 0; t < d; t++) s += (proj[i * d + t]! - proj[p * d + t]!) ** 2;
      best = Math.min(best, s);
    }
    radius = Math.max(radius, Math.sqrt(best));
  }
  assert.ok(Math.abs(sel.coverageRadius - radius) <= 1e-4 * radius, `${sel.coverageRadius} vs ${radius}`);
  assert.equal(coresetProjection(seed, c, c), undefined, "no projection when dim ≥ c");
});

/** Clustered rows with exact duplicates (letterbox borders give many identical slices) and ties. */
function duplicatedData(n: number, c: number, seed: number): Float32Array {
  const x = gaussianData(n, c, seed);
  for (let i = 0; i < n; i += 7) x.copyWithin(i * c, 3 * c, 4 * c); // every 7th row equals row 3
  return x;
}

test("pruning skips most rows late in the selection and picks exactly what the full scan picks", async () => {
  const { greedyCoresetSelectionAsync } = await import("../../../src/model/memory/coreset.js");
  const n = 4000, c = 12, count = 400;
  for (const [name, x] of [["clustered", gaussianData(n, c, 21)], ["with duplicates", duplicatedData(n, c, 22)]] as const) {
    for (const threads of [1, 2]) {
      const full = await greedyCoresetSelectionAsync(x, n, c, count, { projectionDim: c, seed: 6, threads, prune: false });
      const pruned = await greedyCoresetSelectionAsync(x, n, c, count, { projectionDim: c, seed: 6, threads });
      assert.deepEqual([...pruned.selected], [...full.selected], `${name}, threads ${threads}`);
      assert.equal(pruned.coverageRadius, full.coverageRadius);
      assert.equal(full.scanFraction, 1);
      assert.ok(pruned.scanFraction < 0.6, `${name}: pruning measured ${pruned.scanFraction} of the rows`);
    }
  }
  // And against the independent reference, with a projection in between.
  const x = duplicatedData(600, 12, 23);
  const picks = greedyCoreset(x, 600, 12, 40, { projectionDim: 64, seed: 2, threads: 1 });
  assert.deepEqual([...picks], slowKCenter(x, 600, 12, 40, [picks[0]!]));
});

test("pruned kernel, hand case: a row whose nearest pick is 2r or more from the new center is not measured", async () => {
  const { updateMinDistancesPruned } = await import("../../../src/model/memory/coreset.js");
  // 1-D rows 0, 1, 10, 11; picks so far: row 0 (pick 0). New center row 2 (x = 10), pick 1.
  const points = Float32Array.from([0, 1, 10, 11]);
  const minDist = Float64Array.from([0, 1, 100, 121]);
  const owner = Int32Array.from([0, 0, 0, 0]);
  const pickDist = Float64Array.from([100]); // ‖10 − 0‖²
  const scanned = new Float64Array(1);
  const best = updateMinDistancesPruned(points, 1, minDist, owner, pickDist, 2, 1, 0, 4, scanned, 0);
  // Rows 0 (m 0) and 1 (m 1: 100 ≥ 4) are skipped; rows 2 and 3 are measured and move to pick 1.
  assert.equal(scanned[0], 2);
  assert.deepEqual([...minDist], [0, 1, 0, 1]);
  assert.deepEqual([...owner], [0, 0, 1, 1]);
  assert.equal(best, 1, "ties on the largest minDist go to the lowest row");
});

test("an initial cover is checked: one distance and nearest pick per row, picks in range, each initial pick at distance 0", () => {
  const n = 20, c = 3;
  const x = gaussianData(n, c, 1);
  const initial = Int32Array.from([2, 7]);
  const cover = () => ({ minDist: new Float64Array(n).fill(1).map((v, i) => (i === 2 || i === 7 ? 0 : v)), owner: new Int32Array(n) });
  const bad = (what: RegExp, options: Parameters<typeof greedyCoreset>[4]) =>
    assert.throws(() => greedyCoreset(x, n, c, 4, { projectionDim: 64, ...options }), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && what.test(e.message));
  bad(/needs initial picks/, { initialCover: cover() });
  bad(/for each of the 20 rows/, { initial, initialCover: { minDist: new Float64Array(3), owner: new Int32Array(3) } });
  const outOfRange = cover();
  outOfRange.owner[4] = 2;
  bad(/row 4's nearest initial pick 2 is not an index below 2/, { initial, initialCover: outOfRange });
  const negative = cover();
  negative.minDist[5] = -1;
  bad(/row 5's distance -1/, { initial, initialCover: negative });
  const notZero = cover();
  notZero.minDist[7] = 0.5;
  bad(/initial pick 1 \(row 7\) is at distance 0.5/, { initial, initialCover: notZero });
});
