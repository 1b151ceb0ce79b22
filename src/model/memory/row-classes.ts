/**
 * The class of every memory-bank row: fit records which class each coreset
 * row came from (manifest memory.rowClasses), a lifecycle refresh carries it
 * along, and scoring reads a frame's class off the rows it finds nearest.
 */
import type { GridRect } from "../../image/geometry.js";

/** The class name of rows a lifecycle refresh added from frames accepted without a class tag. */
export const UNTAGGED = "(untagged)";

export interface RowClasses {
  /** Per row, an index into `names`. */
  readonly classes: Int32Array;
  readonly names: readonly string[];
}

/**
 * The class most of a frame's positions find their nearest row in: a unified
 * model's classes are different products, so the nearest rows of nearly
 * every position, a defect's included, come from the frame's own class.
 * Ties go to the lower class index; rows whose class is out of range (none
 * recorded) do not vote; -1 when no position voted.
 *
 * With `grid` (the map's width and the cells that show the frame), only
 * those cells vote. A gray letterbox border is the same in every class, so
 * its cells find whichever class's border rows lie nearest: a 1:4 tile,
 * three quarters border, was read as the 1:2 logical class on the
 * realistic suite until the border stopped voting.
 */
export function frameClass(nearest: Int32Array, rowClass: Int32Array, classCount: number, grid?: { readonly w: number; readonly frame?: GridRect }): number {
  return classOfVotes(classVotes(nearest, rowClass, classCount, grid));
}

/** The votes frameClass counts: per class, the voting positions whose nearest row belongs to it. */
export function classVotes(nearest: Int32Array, rowClass: Int32Array, classCount: number, grid?: { readonly w: number; readonly frame?: GridRect }): Int32Array {
  const votes = new Int32Array(classCount);
  const vote = (row: number) => {
    const cls = row >= 0 && row < rowClass.length ? rowClass[row]! : -1;
    if (cls >= 0 && cls < classCount) votes[cls]!++;
  };
  const r = grid?.frame;
  if (!r) for (const row of nearest) vote(row);
  else for (let y = r.y0; y < r.y1; y++) for (let x = r.x0; x < r.x1; x++) if (y * grid.w + x < nearest.length) vote(nearest[y * grid.w + x]!);
  return votes;
}

/** The class with the most votes (ties to the lower index); -1 when none voted. */
export function classOfVotes(votes: Int32Array): number {
  let best = -1;
  for (let c = 0; c < votes.length; c++) if (votes[c]! > 0 && (best < 0 || votes[c]! > votes[best]!)) best = c;
  return best;
}

/**
 * Each row's class as frameClass counts it: rows added from untagged frames
 * (UNTAGGED) say nothing of a frame's class, so they get -1 and cast no vote.
 */
export function votingClasses(rowClasses: RowClasses): Int32Array {
  const untagged = rowClasses.names.indexOf(UNTAGGED);
  if (untagged < 0) return rowClasses.classes;
  return rowClasses.classes.map((cls) => (cls === untagged ? -1 : cls));
}
