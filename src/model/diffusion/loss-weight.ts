/**
 * Min-SNR-γ loss weighting (Hang et al. 2023, "Efficient Diffusion Training
 * via Min-SNR Weighting Strategy"), for ε-prediction:
 *   w_t = min(SNR_t, γ) / SNR_t,   SNR_t = ᾱ_t / (1 − ᾱ_t).
 * Why: in x0 terms the ε loss weighs each step's reconstruction error by
 * SNR_t, which is in the hundreds at the small t LafitE corrupts to (τ ≈
 * 20–200; SNR ≈ 600 at t = 20), so most of the gradient goes to separating
 * a tiny noise from the signal, a near-unlearnable target, while the
 * reconstruction at t = τ is what scoring uses. The weight caps the x0
 * weighting at γ. The weights are divided by their mean over the trained
 * range [1, tMax] so the loss keeps the scale of Eq. 6 (a zero predictor
 * still scores about 1) and the learning rate means what it did.
 * Pure: indexed by t = 0..T (index 0 unused, 0).
 */
import type { NoiseSchedule } from "./schedule.js";

export function minSnrWeights(schedule: NoiseSchedule, tMax: number, gamma: number): Float64Array {
  if (!(gamma > 0)) throw new RangeError(`min-SNR γ must be positive, got ${gamma}`);
  if (!Number.isInteger(tMax) || tMax < 1 || tMax > schedule.T) throw new RangeError(`tMax must be an integer from 1 to ${schedule.T}, got ${tMax}`);
  const w = new Float64Array(schedule.T + 1);
  let sum = 0;
  for (let t = 1; t <= schedule.T; t++) {
    const ab = schedule.alphaBar[t]!;
    const snr = ab / (1 - ab);
    w[t] = Math.min(snr, gamma) / snr;
    if (t <= tMax) sum += w[t]!;
  }
  const mean = sum / tMax;
  for (let t = 1; t <= schedule.T; t++) w[t]! /= mean;
  return w;
}
