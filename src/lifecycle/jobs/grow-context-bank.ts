/**
 * The refresh's context bank (scoring/context-bank.ts): the accepted frames
 * tagged with a class the context bank holds add their slices, each with
 * λ times its frame's context, as the main bank's refresh adds its own:
 * greedy k-center continued from the existing rows, in fit's projection,
 * while the farthest new slice lies beyond fit's covering radius, at most
 * `maxAdditions`; past the ceiling the bank is consolidated back to it as
 * the main bank is (model/memory/consolidate.ts: each class keeps its share,
 * the added rows first, the old rows nearest to what is kept dropped), so a
 * line whose look keeps drifting is still learned once the bank is full.
 * Without it an accepted frame of such a class would still score high on its
 * context search, the half of its score that a refresh of the main bank
 * leaves as it was.
 *
 * Untagged frames add nothing: a row's class is what a served frame's
 * weight is read by, and the context rows of one class must not answer for
 * another.
 */
import type * as ort from "onnxruntime-node";
import { toRows } from "../../model/feature-stats.js";
import { coresetProjection } from "../../model/memory/coreset.js";
import { gatherRows } from "../../model/memory/rows.js";
import { scaledContextRows, type ContextBankRows } from "../../model/memory/context-coreset.js";
import { frameContext, withContext } from "../../model/scoring/context-bank.js";
import { consolidateBank } from "../../model/memory/consolidate.js";
import type { FeatureMap } from "../../model/types.js";
import { continueKCenter, projectRowsWith } from "./continue-k-center.js";
import { nearestBankDistances } from "./coverage-space.js";
import { invalidInput } from "../../util/errors.js";

export interface GrownContextBank {
  readonly bank: ContextBankRows;
  /** Frames whose class the context bank holds, and the slices they offered. */
  readonly frames: number;
  readonly candidates: number;
  readonly added: number;
  readonly stoppedBy: "covered" | "cap" | "nothing";
  /** Present when the grown bank was cut back to the ceiling: rows dropped, added rows kept, and each held class's rows before and after (by class name). */
  readonly consolidation?: { readonly ceiling: number; readonly dropped: number; readonly addedKept: number; readonly classRows: Readonly<Record<string, { readonly before: number; readonly after: number }>> };
}

export async function growContextBank(input: {
  readonly bank: ContextBankRows;
  readonly lambda: number;
  readonly coverageRadius: number;
  /** The selection's projection: fit's seed and dimension. */
  readonly seed: number;
  readonly projectionDim: number;
  /** The main bank's row-class names, which the context rows' classes index. */
  readonly classNames: readonly string[];
  readonly frames: readonly { readonly map: FeatureMap; readonly classTag?: string | undefined }[];
  readonly maxAdditions: number;
  readonly ceiling: number;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
}): Promise<GrownContextBank> {
  const { bank, lambda } = input;
  const held = new Set(bank.classes);
  const mine = input.frames.flatMap((f) => {
    const cls = f.classTag === undefined ? -1 : input.classNames.indexOf(f.classTag);
    return cls >= 0 && held.has(cls) ? [{ map: f.map, cls }] : [];
  });
  if (!(Number.isInteger(input.ceiling) && input.ceiling >= 1)) throw invalidInput(`context bank ceiling ${input.ceiling} must be a positive integer`);
  // Past the ceiling the bank is consolidated, so the room is the additions' cap alone.
  const room = Math.max(0, input.maxAdditions);
  if (mine.length === 0 || room === 0) return { bank, frames: mine.length, candidates: 0, added: 0, stoppedBy: mine.length === 0 ? "nothing" : "cap" };
  const cc = bank.channels[1] - bank.channels[0];
  const width = bank.c + cc;
  const hw = mine[0]!.map.h * mine[0]!.map.w;
  const n = mine.length * hw;
  // Unscaled, as stored; the selection measures them at λ.
  const rows = new Float32Array(n * width);
  const rowClass = new Int32Array(n);
  mine.forEach(({ map, cls }, i) => {
    rows.set(toRows(withContext(map, frameContext(map, bank.channels), 1)), i * hw * width);
    rowClass.fill(cls, i * hw, (i + 1) * hw);
  });
  const projection = coresetProjection(input.seed, width, input.projectionDim);
  const { points, d } = projectRowsWith(scaledContextRows({ rows, size: n, c: bank.c, channels: bank.channels }, lambda), n, width, projection);
  const bankPoints = projectRowsWith(scaledContextRows(bank, lambda), bank.size, width, projection).points;
  const minDist = await nearestBankDistances(bankPoints, bank.size, points, n, d, input.sessionOptions);
  const sel = continueKCenter(points, n, d, minDist, { radius: input.coverageRadius, maxAdditions: room, ...(input.signal ? { signal: input.signal } : {}) });
  const size = bank.size + sel.added.length;
  const grownRows = new Float32Array(size * width);
  grownRows.set(bank.rows);
  grownRows.set(gatherRows(rows, width, sel.added), bank.size * width);
  const classes = new Int32Array(size);
  classes.set(bank.classes);
  sel.added.forEach((r, a) => (classes[bank.size + a] = rowClass[r]!));
  const grown = { bank: { rows: grownRows, size, c: bank.c, channels: bank.channels, classes }, frames: mine.length, candidates: n, added: sel.added.length, stoppedBy: sel.stoppedBy };
  if (size <= input.ceiling) return grown;

  // Consolidated in the space the rows were chosen in: fit's projection of the rows at λ.
  const grownPoints = new Float32Array(size * d);
  grownPoints.set(bankPoints);
  grownPoints.set(gatherRows(points, d, sel.added), bank.size * d);
  const addedRows = Array.from({ length: sel.added.length }, (_, a) => bank.size + a);
  const con = await consolidateBank(grownPoints, size, d, classes, addedRows, input.ceiling, input.signal ? { signal: input.signal } : {});
  const classRows = Object.fromEntries(con.before.flatMap((before, k) => (before > 0 ? [[input.classNames[k] ?? String(k), { before, after: con.after[k]! }]] : [])));
  return {
    ...grown,
    bank: { rows: gatherRows(grownRows, width, con.kept), size: con.kept.length, c: bank.c, channels: bank.channels, classes: Int32Array.from(con.kept, (r) => classes[r]!) },
    consolidation: { ceiling: input.ceiling, dropped: size - con.kept.length, addedKept: con.kept.filter((r) => r >= bank.size).length, classRows },
  };
}
