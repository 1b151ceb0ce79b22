/** Row-major matrices as the memory-bank code passes them around: n rows of `width` values. */
import { invalidInput } from "../../util/errors.js";

/** The rows `ids` of `rows` (each `width` values), in that order, as a new matrix. */
export function gatherRows(rows: Float32Array, width: number, ids: ArrayLike<number>): Float32Array {
  const out = new Float32Array(ids.length * width);
  for (let j = 0; j < ids.length; j++) {
    const r = ids[j]!;
    out.set(rows.subarray(r * width, (r + 1) * width), j * width);
  }
  return out;
}

/** The row indices of each class, by class index (0 … max index), from one class index per row; a negative or fractional index is refused. */
export function classMembers(rowClass: Int32Array): number[][] {
  const classes = rowClass.reduce((m, k) => Math.max(m, k + 1), 0);
  const members: number[][] = Array.from({ length: classes }, () => []);
  rowClass.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0) throw invalidInput(`row ${i} has class index ${k}`);
    members[k]!.push(i);
  });
  return members;
}
