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

/** Independent reference: every step recomputes each candidate's distance to bank ∪ picks from scratch. */
function bruteForce(bank: Float32Array, nb: number, x: Float32Array, n: number, d: number, radius: number, cap: number): number[] {
  const picks: number[] = [];
  for (;;) {
    let best = -1, bestValue = -1;
    for (let i = 0; i < n; i++) {
      let m = Infinity;
      for (let j = 0; j < nb; j++) m = Math.min(m, sq(x, i, bank, j, d));
      for (const p of picks) m = Math.min(m, sq(x, i, x, p, d));
      if (m > bestValue) (bestValue = m), (best = i);
    }
    if (bestValue <= radius * radius || picks.length >= cap) return picks;
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
    const want = bruteForce(bank, nb, x, n, d, radius, cap);
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
