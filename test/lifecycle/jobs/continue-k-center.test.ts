import { test } from "node:test";
import assert from "node:assert/strict";
import { continueKCenter } from "../../../src/lifecycle/jobs/continue-k-center.js";
import { greedyCoreset } from "../../../src/model/memory/coreset.js";
import { createRng } from "../../../src/util/random.js";

function data(n: number, d: number, seed: number, offset = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n * d }, () => rng.normal() + offset);
}

const sq = (a: Float32Array, i: number, b: Float32Array, j: number, d: number) => {
  let s = 0;
  for (let t = 0; t < d; t++) s += (a[i * d + t]! - b[j * d + t]!) ** 2;
  return s;
};

/**
 * Independent reference: every step recomputes each candidate's distance to bank ∪ picks from scratch and picks the one
 * farthest beyond its own radius (the largest ratio of squared distance to squared radius; with one radius for all, the
 * farthest), until every candidate is within its radius or the cap is reached.
 */
function bruteForce(bank: Float32Array, nb: number, x: Float32Array, n: number, d: number, radii: readonly number[], cap: number): number[] {
  const picks: number[] = [];
  for (;;) {
    let best = -1, bestRatio = -1;
    for (let i = 0; i < n; i++) {
      let m = Infinity;
      for (let j = 0; j < nb; j++) m = Math.min(m, sq(x, i, bank, j, d));
      for (const p of picks) m = Math.min(m, sq(x, i, x, p, d));
      const ratio = m / Math.max(1e-12, radii[i]! ** 2);
      if (ratio > bestRatio) (bestRatio = ratio), (best = i);
    }
    if (bestRatio <= 1 || picks.length >= cap) return picks;
    picks.push(best);
  }
}

function seeded(bank: Float32Array, nb: number, x: Float32Array, n: number, d: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    let m = Infinity;
    for (let j = 0; j < nb; j++) m = Math.min(m, sq(x, i, bank, j, d));
    return m;
  });
}

test("continued k-center equals a brute-force recomputation, stops at the radius, and honours the cap", () => {
  const d = 6, nb = 40, n = 120;
  const bank = data(nb, d, 1);
  const x = data(n, d, 2, 0.8); // partly outside the bank's region
  for (const [radius, cap] of [[1.5, 1000], [1.5, 5], [0.8, 1000]] as const) {
    const got = continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius, maxAdditions: cap });
    const want = bruteForce(bank, nb, x, n, d, new Array<number>(n).fill(radius), cap);
    assert.deepEqual([...got.added], want, `radius ${radius} cap ${cap}`);
    assert.equal(got.stoppedBy, want.length === cap ? "cap" : "covered");
    if (got.stoppedBy === "covered") assert.ok(got.uncoveredRadius <= radius);
    else assert.ok(got.uncoveredRadius > radius);
  }
});

test("on data the bank already covers, nothing is added; from an empty-like start it reproduces fit's full greedy run", () => {
  const d = 5, n = 80;
  const x = data(n, d, 3);
  const none = continueKCenter(x, n, d, seeded(x, n, x, n, d), { radius: 0, maxAdditions: 10 });
  assert.equal(none.added.length, 0, "every candidate is itself in the bank");
  // Bank = fit's first pick; continuing with radius 0 for 11 more picks must give fit's next 11 picks.
  const full = greedyCoreset(x, n, d, 12, { projectionDim: 64, seed: 9, threads: 1 });
  const first = full[0]!;
  const bank = x.slice(first * d, first * d + d);
  const cont = continueKCenter(x, n, d, seeded(bank, 1, x, n, d), { radius: 0, maxAdditions: 11 });
  assert.deepEqual([...cont.added], [...full.subarray(1)]);
});

test("with a radius per candidate, each is covered to its own radius: equals a brute-force recomputation, honours the cap", () => {
  const d = 6, nb = 40, n = 120;
  const bank = data(nb, d, 1);
  const x = data(n, d, 2, 0.8);
  // Two classes of candidates: the first 60 held to 0.9, the rest to 1.6.
  const radii = Array.from({ length: n }, (_, i) => (i < 60 ? 0.9 : 1.6));
  for (const cap of [1000, 7]) {
    const minDist = seeded(bank, nb, x, n, d);
    const got = continueKCenter(x, n, d, minDist, { radius: 1.6, radii: Float64Array.from(radii), maxAdditions: cap });
    const want = bruteForce(bank, nb, x, n, d, radii, cap);
    assert.deepEqual([...got.added], want, `cap ${cap}`);
    assert.equal(got.stoppedBy, want.length === cap ? "cap" : "covered");
    if (got.stoppedBy === "covered") for (let i = 0; i < n; i++) assert.ok(Math.sqrt(minDist[i]!) <= radii[i]! + 1e-12, `candidate ${i} within its radius`);
    assert.ok(Math.abs(got.uncoveredRadius - Math.sqrt(Math.max(...minDist))) < 1e-12, "uncovered radius is the largest distance left");
  }
  // Held to 0.9, the first class needs picks that the common radius 1.6 would not make.
  const common = continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1.6, maxAdditions: 1000 });
  const own = continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1.6, radii: Float64Array.from(radii), maxAdditions: 1000 });
  assert.ok(own.added.length > common.added.length, `${own.added.length} picks against ${common.added.length}`);
});

test("the same radius for every candidate picks exactly as the single radius does; bad radii are refused", () => {
  const d = 4, nb = 30, n = 90;
  const bank = data(nb, d, 5);
  const x = data(n, d, 6, 0.6);
  const one = continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1.2, maxAdditions: 1000 });
  const each = continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1.2, radii: new Float64Array(n).fill(1.2), maxAdditions: 1000 });
  assert.ok(one.added.length > 0);
  assert.deepEqual([...each.added], [...one.added]);
  assert.equal(each.uncoveredRadius, one.uncoveredRadius);
  assert.throws(() => continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1, radii: new Float64Array(n - 1), maxAdditions: 1 }), /89 covering radii for 90 candidates/);
  assert.throws(() => continueKCenter(x, n, d, seeded(bank, nb, x, n, d), { radius: 1, radii: new Float64Array(n).fill(-1), maxAdditions: 1 }), /non-negative/);
});
