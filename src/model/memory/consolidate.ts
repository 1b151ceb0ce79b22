/**
 * Shrinking a memory bank back to a size limit while keeping what was just
 * added: the lifecycle's refresh grows the bank with rows of drifted normal
 * frames until memory.maxCoresetSize × (1 + refreshHeadroom), and past that
 * it must drop rows to add any.
 *
 * Which rows: each class keeps a share of the limit in proportion to the rows
 * it holds now, so the consolidation does not undo the per-class budgets fit
 * chose (class-coreset.ts). One global greedy pass would drop the compact
 * classes' rows first, being closest together; that is what starved the
 * small classes of the realistic suite before per-class selection. Inside a
 * class, the rows to keep are chosen by greedy k-center starting from the
 * newly added rows (the line's current appearance, farthest-first), so the
 * rows dropped are the old ones nearest to what is kept: the most redundant.
 */
import { invalidInput } from "../../util/errors.js";
import { weightedFill } from "./candidates.js";
import { greedyCoresetSelectionAsync, type CoresetOptions } from "./coreset.js";
import { classMembers, gatherRows } from "./rows.js";

export interface Consolidation {
  /** Rows kept, ascending (so old rows keep their order and the added ones stay last). */
  readonly kept: Int32Array;
  /** Rows each class holds before and after, by class index. */
  readonly before: number[];
  readonly after: number[];
}

/**
 * @param points   bank rows, n×d, in the space coverage is measured in (the stored projection).
 * @param rowClass class index of each row.
 * @param added    rows to keep first, in order (a refresh's additions, farthest-first).
 * @param target   rows to keep (< n).
 */
export async function consolidateBank(
  points: Float32Array,
  n: number,
  d: number,
  rowClass: Int32Array,
  added: readonly number[],
  target: number,
  options: Pick<CoresetOptions, "signal" | "threads"> = {},
): Promise<Consolidation> {
  if (points.length !== n * d) throw invalidInput(`bank of ${points.length} values is not ${n}×${d}`);
  if (rowClass.length !== n) throw invalidInput(`${rowClass.length} row classes for ${n} rows`);
  if (!Number.isInteger(target) || target < 1 || target > n) throw invalidInput(`consolidation target ${target} must be an integer between 1 and ${n}`);
  const members = classMembers(rowClass);
  const classes = members.length;
  const fresh = new Map<number, number>();
  added.forEach((r, j) => {
    if (!Number.isInteger(r) || r < 0 || r >= n) throw invalidInput(`added row ${r} is not a row index below ${n}`);
    if (!fresh.has(r)) fresh.set(r, j);
  });
  const before = members.map((m) => m.length);
  const budgets = weightedFill(before, before, target);
  const kept: number[] = [];
  for (let k = 0; k < classes; k++) {
    const ids = members[k]!;
    const want = budgets[k]!;
    if (want === 0) continue;
    if (want >= ids.length) {
      kept.push(...ids);
      continue;
    }
    // Local index of each of this class's added rows, in pick order; as many as the class keeps.
    const initial = ids.map((r, j) => ({ j, order: fresh.get(r) })).filter((x) => x.order !== undefined).sort((a, b) => a.order! - b.order!).slice(0, want).map((x) => x.j);
    // projectionDim d: the points are already in the measuring space.
    const sel = await greedyCoresetSelectionAsync(gatherRows(points, d, ids), ids.length, d, want, { ...options, projectionDim: d, ...(initial.length > 0 ? { initial: Int32Array.from(initial) } : {}) });
    for (const j of sel.selected) kept.push(ids[j]!);
  }
  kept.sort((a, b) => a - b);
  const after = new Array<number>(classes).fill(0);
  for (const r of kept) after[rowClass[r]!]!++;
  return { kept: Int32Array.from(kept), before, after };
}
