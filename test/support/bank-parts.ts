/** Feature maps as a scorer's memory bank, for tests that score against a bank they build by hand. */
import type { FeatureMap } from "../../src/model/types.js";
import type { ScorerParts } from "../../src/pipeline/open-scorer.js";

/** Bank maps as scorer parts: their slices as coreset rows, each map's rows of class `classOf(i)` among `names`. */
export function bankParts(bank: readonly FeatureMap[], classOf: (i: number) => number, names: readonly string[]): ScorerParts {
  const { c, h, w } = bank[0]!;
  const hw = h * w;
  const coreset = new Float32Array(bank.length * hw * c);
  const rowClass = new Int32Array(bank.length * hw);
  bank.forEach((x, i) => {
    for (let p = 0; p < hw; p++) {
      for (let ch = 0; ch < c; ch++) coreset[(i * hw + p) * c + ch] = x.data[ch * hw + p]!;
      rowClass[i * hw + p] = classOf(i);
    }
  });
  return { coreset, coresetSize: bank.length * hw, c, rowClasses: { classes: rowClass, names } };
}
