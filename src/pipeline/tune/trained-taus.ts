/**
 * The τ grid a bundle can be tuned over: a U-Net trained on t ≤ tMax
 * (diffusion.tMax) was never asked to denoise from a larger τ, so those grid
 * points are dropped; when none is left, tMax itself is the one point.
 */
export function trainedTaus(taus: readonly number[], tMax: number | undefined): number[] {
  if (tMax === undefined) return [...taus];
  const kept = taus.filter((t) => t <= tMax);
  return kept.length > 0 ? kept : [tMax];
}
