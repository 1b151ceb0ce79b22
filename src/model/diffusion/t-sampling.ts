/**
 * Which diffusion step t each training sample is noised to (Eq. 6 draws t
 * uniformly from [1, T]). At inference LafitE only corrupts to τ and
 * denoises from there (Eq. 11, τ ≈ 20–100 of T = 1000), so steps above τ are
 * never asked of ε_θ; `tMax` lets training spend its budget on the steps
 * used: t uniform in [1, tMax]. tMax = T is the paper's Eq. 6, unchanged
 * (the same draws from the same stream, so old checkpoints resume exactly).
 */
import { randomInt, type Rng } from "./prng.js";

/** The upper end of the t range: `tMax` when given, else T; refuses a range outside [1, T]. */
export function trainingTMax(T: number, tMax: number | undefined): number {
  const hi = tMax ?? T;
  if (!Number.isInteger(hi) || hi < 1 || hi > T) throw new RangeError(`diffusion tMax must be an integer from 1 to T = ${T}, got ${String(tMax)}`);
  return hi;
}

/** One training step t, uniform in [1, tMax]: one draw from `rng`. */
export function sampleTrainingStep(rng: Rng, tMax: number): number {
  return randomInt(rng, 1, tMax);
}
