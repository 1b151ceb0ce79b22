import { test } from "node:test";
import assert from "node:assert/strict";
import { growContextBank } from "../../../src/lifecycle/jobs/grow-context-bank.js";
import { contextCoreset, scaledContextRows, type ContextBankRows } from "../../../src/model/memory/context-coreset.js";
import { frameContext } from "../../../src/model/scoring/context-bank.js";
import type { FeatureMap } from "../../../src/model/types.js";

const c = 2, h = 2, w = 2, hw = h * w, LAMBDA = 2;

/** Plate (0) with one part at cell 0 whose channel 1 is +3 (kind A) or −3 (kind B). */
function frame(sign: 1 | -1): FeatureMap {
  const data = new Float32Array(c * hw);
  data[1 * hw + 0] = 3 * sign;
  return { c, h, w, data };
}

/** The distance from each position of x (with its context) to its nearest context row, by brute force. */
function nearest(bank: ContextBankRows, x: FeatureMap): number[] {
  const rows = scaledContextRows(bank, LAMBDA);
  const ctx = frameContext(x, bank.channels);
  const width = c + ctx.length;
  return Array.from({ length: hw }, (_, p) => {
    const q = [...Array.from({ length: c }, (__, ch) => x.data[ch * hw + p]!), ...Array.from(ctx, (v) => LAMBDA * v)];
    let best = Infinity;
    for (let r = 0; r < bank.size; r++) best = Math.min(best, q.reduce((a, v, j) => a + (v - rows[r * width + j]!) ** 2, 0));
    return Math.sqrt(best);
  });
}

async function kindABank() {
  const bank = [frame(1), frame(1), frame(1)];
  return contextCoreset(bank, bank.map(() => "kit"), ["kit", "tex"], { kit: 2 }, { candidates: 1000, sampling: "uniform", seed: 5, projectionDim: 64, lambda: LAMBDA, channels: [1, 2] });
}

const grow = (bank: ContextBankRows & { coverageRadius: number }, frames: { map: FeatureMap; classTag?: string }[], limits: { maxAdditions?: number; ceiling?: number } = {}) =>
  growContextBank({ bank, lambda: LAMBDA, coverageRadius: bank.coverageRadius, seed: 5, projectionDim: 64, classNames: ["kit", "tex"], frames, maxAdditions: limits.maxAdditions ?? 10, ceiling: limits.ceiling ?? 100, sessionOptions: {} });

test("a refresh grows the context bank from tagged frames of its classes: a new kind of frame is covered afterwards, rows keep their class", async () => {
  const bank = await kindABank();
  // Kind A's plate and part: both rows; a kind-B frame is far from every row (its context and its part differ).
  assert.equal(bank.size, 2);
  assert.ok(Math.min(...nearest(bank, frame(-1))) > 1, `before: ${nearest(bank, frame(-1))}`);
  const grown = await grow(bank, [{ map: frame(-1), classTag: "kit" }, { map: frame(-1), classTag: "kit" }]);
  assert.equal(grown.frames, 2);
  assert.equal(grown.candidates, 2 * hw);
  assert.equal(grown.added, 2, "kind B's plate and part, each once");
  assert.equal(grown.stoppedBy, "covered");
  assert.equal(grown.bank.size, 4);
  assert.deepEqual(Array.from(grown.bank.classes), [0, 0, 0, 0]);
  for (const d of nearest(grown.bank, frame(-1))) assert.ok(d < 1e-6, `after: ${d}`);
  // The old rows come first, unchanged.
  assert.deepEqual(Array.from(grown.bank.rows.subarray(0, bank.rows.length)), Array.from(bank.rows));
});

test("untagged frames and frames of a class the context bank does not hold add nothing; maxAdditions caps what is added", async () => {
  const bank = await kindABank();
  const none = await grow(bank, [{ map: frame(-1) }, { map: frame(-1), classTag: "tex" }, { map: frame(-1), classTag: "unknown" }]);
  assert.deepEqual({ frames: none.frames, added: none.added, stoppedBy: none.stoppedBy, size: none.bank.size }, { frames: 0, added: 0, stoppedBy: "nothing", size: 2 });
  const capped = await grow(bank, [{ map: frame(-1), classTag: "kit" }], { maxAdditions: 1 });
  assert.deepEqual({ added: capped.added, stoppedBy: capped.stoppedBy }, { added: 1, stoppedBy: "cap" });
  assert.equal(capped.consolidation, undefined, "under the ceiling: nothing dropped");
});

test("past its ceiling the context bank is consolidated back to it: the added rows kept first, the old row nearest to them dropped", async () => {
  const bank = await kindABank();
  const before = nearest(bank, frame(1));
  const full = await grow(bank, [{ map: frame(-1), classTag: "kit" }], { ceiling: 3 });
  assert.deepEqual({ added: full.added, size: full.bank.size }, { added: 2, size: 3 });
  assert.deepEqual(full.consolidation, { ceiling: 3, dropped: 1, addedKept: 2, classRows: { kit: { before: 4, after: 3 } } });
  assert.deepEqual(Array.from(full.bank.classes), [0, 0, 0]);
  // Kind B is covered; of kind A one row is left: the one farther from kind B's rows (its part, −3 against +3 on channel 1),
  // so kind A's part still finds its row and its plate the nearest of the rest.
  for (const d of nearest(full.bank, frame(-1))) assert.ok(d < 1e-6, `kind B after: ${d}`);
  const after = nearest(full.bank, frame(1));
  assert.ok(after[0]! < 1e-6 && before[0]! < 1e-6, `kind A's part: ${after}`);
  assert.ok(after.slice(1).every((d) => d > 0), `kind A's plate lost its own row: ${after}`);
  // At a ceiling of the old size, the line's new look replaces the old one.
  const swapped = await grow(bank, [{ map: frame(-1), classTag: "kit" }], { ceiling: 2 });
  assert.deepEqual(swapped.consolidation, { ceiling: 2, dropped: 2, addedKept: 2, classRows: { kit: { before: 4, after: 2 } } });
  for (const d of nearest(swapped.bank, frame(-1))) assert.ok(d < 1e-6, `kind B: ${d}`);
  await assert.rejects(grow(bank, [{ map: frame(-1), classTag: "kit" }], { ceiling: 0 }), /ceiling 0 must be a positive integer/);
});
