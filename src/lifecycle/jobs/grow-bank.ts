/**
 * The refresh's new bank: the old rows, then the picked new slices, each
 * row's class carried along (fit's classes, the accepted frame's tag for new
 * rows); past the ceiling, consolidated back to it per class
 * (src/model/memory/consolidate.ts).
 */
import { consolidateBank } from "../../model/memory/consolidate.js";
import { gatherRows } from "../../model/memory/rows.js";
import { UNTAGGED, type RowClasses } from "../../model/memory/row-classes.js";

export interface GrownBank {
  readonly coreset: Float32Array;
  readonly size: number;
  /** Absent when the parent bundle had none (fitted before row classes were stored). */
  readonly rowClasses?: RowClasses;
  /** Present when the bank was cut back to the ceiling. */
  readonly consolidation?: { ceiling: number; dropped: number; addedKept: number; classRows: Record<string, { before: number; after: number }> };
}

export async function growBank(input: {
  /** Old bank rows (bankSize × c) and their images in the coverage space (bankSize × d). */
  readonly bank: Float32Array;
  readonly bankPoints: Float32Array;
  readonly bankSize: number;
  readonly c: number;
  readonly d: number;
  /** New slices (× c) and their images in the coverage space (× d). */
  readonly rows: Float32Array;
  readonly points: Float32Array;
  /** Picked slices, in pick order, and each one's frame class tag. */
  readonly added: Int32Array;
  readonly addedTags: readonly (string | undefined)[];
  readonly rowClasses: RowClasses | undefined;
  readonly ceiling: number;
  readonly signal?: AbortSignal;
}): Promise<GrownBank> {
  const { bankSize, c, d, added } = input;
  const grown = bankSize + added.length;
  const coreset = new Float32Array(grown * c);
  coreset.set(input.bank);
  coreset.set(gatherRows(input.rows, c, added), bankSize * c);
  if (!input.rowClasses) return { coreset, size: grown };

  const names = [...input.rowClasses.names];
  // Untagged frames and tags fit never saw become classes of their own.
  const classIndex = (tag: string | undefined) => {
    const i = names.indexOf(tag ?? UNTAGGED);
    return i >= 0 ? i : names.push(tag ?? UNTAGGED) - 1;
  };
  const classes = new Int32Array(grown);
  classes.set(input.rowClasses.classes);
  input.addedTags.forEach((tag, a) => (classes[bankSize + a] = classIndex(tag)));
  if (grown <= input.ceiling) return { coreset, size: grown, rowClasses: { classes, names } };

  const grownPoints = new Float32Array(grown * d);
  grownPoints.set(input.bankPoints);
  grownPoints.set(gatherRows(input.points, d, added), bankSize * d);
  const addedRows = Array.from({ length: added.length }, (_, a) => bankSize + a);
  const con = await consolidateBank(grownPoints, grown, d, classes, addedRows, input.ceiling, input.signal ? { signal: input.signal } : {});
  return {
    coreset: gatherRows(coreset, c, con.kept),
    size: con.kept.length,
    rowClasses: { classes: Int32Array.from(con.kept, (r) => classes[r]!), names },
    consolidation: {
      ceiling: input.ceiling,
      dropped: grown - con.kept.length,
      addedKept: con.kept.filter((r) => r >= bankSize).length,
      classRows: Object.fromEntries(names.map((k, i) => [k, { before: con.before[i] ?? 0, after: con.after[i] ?? 0 }])),
    },
  };
}
