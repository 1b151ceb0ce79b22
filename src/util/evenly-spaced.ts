/**
 * `count` indices of 0 … n−1 spread evenly, the middle of each of `count`
 * equal runs: floor((i + ½)·n / count). Deterministic, so a pick does not
 * depend on file order quirks beyond sorting. Pure.
 */
export function evenlySpacedIndices(n: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.min(n - 1, Math.floor(((i + 0.5) * n) / count)));
}
