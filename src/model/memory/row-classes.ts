/**
 * The class of every memory-bank row: fit records which class each coreset
 * row came from (manifest memory.rowClasses), a lifecycle refresh carries it
 * along, and scoring reads a frame's class off the rows it finds nearest.
 */

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
 */
export function frameClass(nearest: Int32Array, rowClass: Int32Array, classCount: number): number {
  const votes = new Int32Array(classCount);
  for (const row of nearest) {
    const cls = row >= 0 && row < rowClass.length ? rowClass[row]! : -1;
    if (cls >= 0 && cls < classCount) votes[cls]!++;
  }
  let best = -1;
  for (let c = 0; c < classCount; c++) if (votes[c]! > 0 && (best < 0 || votes[c]! > votes[best]!)) best = c;
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
