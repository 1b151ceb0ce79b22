import { test } from "node:test";
import assert from "node:assert/strict";
import { consolidateBank } from "../../../src/model/memory/consolidate.js";
import { gaussianData, slowKCenter } from "../../support/k-center-reference.js";

/** 40 rows of 4 dims: rows 0–29 class 0, 30–39 class 1 (interleaved so classes are not contiguous). */
function bank(): { x: Float32Array; rowClass: Int32Array; n: number; d: number } {
  const n = 40, d = 4;
  const x = gaussianData(n, d, 21);
  const rowClass = Int32Array.from({ length: n }, (_, i) => (i % 4 === 3 ? 1 : 0));
  return { x, rowClass, n, d };
}

/** The reference: per class, slow greedy k-center from the class's added rows (in order; every class has some), mapped back to bank rows. */
function reference(x: Float32Array, rowClass: Int32Array, d: number, added: number[], budgets: number[]): number[] {
  const kept: number[] = [];
  budgets.forEach((want, k) => {
    const ids = [...rowClass.keys()].filter((i) => rowClass[i] === k);
    const sub = new Float32Array(ids.length * d);
    ids.forEach((r, j) => sub.set(x.subarray(r * d, (r + 1) * d), j * d));
    const initial = added.filter((r) => rowClass[r] === k).slice(0, want).map((r) => ids.indexOf(r));
    kept.push(...slowKCenter(sub, ids.length, d, want, initial).map((j) => ids[j]!));
  });
  return kept.sort((a, b) => a - b);
}

test("each class keeps a share of the target ∝ its rows, the added rows first, the rest by greedy k-center inside the class (slow reference)", async () => {
  const { x, rowClass, n, d } = bank();
  // 30 and 10 rows, target 20: 15 and 5 (hand-computed).
  const added = [38, 7, 35, 2]; // classes 0, 1, 1, 0
  const con = await consolidateBank(x, n, d, rowClass, added, 20, { threads: 1 });
  assert.deepEqual(con.before, [30, 10]);
  assert.deepEqual(con.after, [15, 5]);
  assert.equal(con.kept.length, 20);
  for (const r of added) assert.ok(con.kept.includes(r), `added row ${r} kept`);
  assert.deepEqual([...con.kept], reference(x, rowClass, d, added, [15, 5]));
  assert.deepEqual([...con.kept], [...con.kept].sort((a, b) => a - b), "ascending");
});

test("more added rows than a class keeps: the first ones in pick order are kept", async () => {
  const { x, rowClass, n, d } = bank();
  // Class 1 keeps 2 of its 10 rows at target 8 (6 / 2); it has 4 added rows.
  const added = [31, 3, 39, 23]; // all class 1; class 0 starts from its seeded first pick
  const con = await consolidateBank(x, n, d, rowClass, added, 8, { threads: 1 });
  assert.deepEqual(con.after, [6, 2]);
  assert.deepEqual([...con.kept].filter((r) => rowClass[r] === 1), [3, 31]);
});

test("bad arguments are refused", async () => {
  const { x, rowClass, n, d } = bank();
  await assert.rejects(consolidateBank(x, n, d, rowClass, [], 0), /target 0 must be an integer between 1 and 40/);
  await assert.rejects(consolidateBank(x, n, d, rowClass, [], 41), /between 1 and 40/);
  await assert.rejects(consolidateBank(x, n, d, rowClass.subarray(1), [], 10), /39 row classes for 40/);
  await assert.rejects(consolidateBank(x, n, d, rowClass, [40], 10), /added row 40 is not a row index below 40/);
  await assert.rejects(consolidateBank(x.subarray(1), n, d, rowClass, [], 10), /not 40×4/);
});
