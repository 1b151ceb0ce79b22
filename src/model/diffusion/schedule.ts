/**
 * Cosine noise schedule (Nichol & Dhariwal 2021, "Improved DDPM", Eq. 17),
 * the schedule LafitE trains with (paper 4.1, T = 1000).
 *
 *   f(t) = cos²(((t/T) + s)/(1 + s) · π/2),  s = 0.008
 *   β_t  = min(1 − f(t)/f(t−1), 0.999)
 *   ᾱ_t  = ∏_{s=1..t} (1 − β_s)            (paper Eq. 3), ᾱ_0 = 1
 *
 * Pure and computed in float64; index t runs 0..T.
 */
export const DEFAULT_T = 1000;
const S = 0.008;
const MAX_BETA = 0.999;

export interface NoiseSchedule {
  readonly T: number;
  /** β_t for t = 1..T (index 0 is 0). */
  readonly beta: Float64Array;
  /** ᾱ_t for t = 0..T (ᾱ_0 = 1). */
  readonly alphaBar: Float64Array;
}

function f(t: number, T: number): number {
  const c = Math.cos((((t / T) + S) / (1 + S)) * (Math.PI / 2));
  return c * c;
}

export function cosineSchedule(T = DEFAULT_T): NoiseSchedule {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`schedule: T must be a positive integer, got ${T}`);
  const beta = new Float64Array(T + 1);
  const alphaBar = new Float64Array(T + 1);
  alphaBar[0] = 1;
  for (let t = 1; t <= T; t++) {
    beta[t] = Math.min(1 - f(t, T) / f(t - 1, T), MAX_BETA);
    alphaBar[t] = alphaBar[t - 1]! * (1 - beta[t]!);
  }
  return { T, beta, alphaBar };
}
