/**
 * Spearman's rank correlation: Pearson's correlation of the ranks, ties
 * given their average rank. Used to ask whether pseudo-validation AUROC
 * orders hyper-parameter settings the way the real test set does (paper
 * Fig. 6).
 */

/** Ranks 1…n, ties sharing the mean of their ranks. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end]!.v === order[start]!.v) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let j = start; j < end; j++) ranks[order[j]!.i] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's ρ of paired values; null when undefined (fewer than 3 pairs, or one side constant). */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} values against ${b.length}`);
  if (a.length < 3) return null;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (a.length + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = ra[i]! - mean;
    const db = rb[i]! - mean;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? null : sab / Math.sqrt(saa * sbb);
}
