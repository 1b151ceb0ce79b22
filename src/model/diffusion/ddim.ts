/**
 * DDIM reconstruction arithmetic (LafitE Eq. 7, 8, 11), pure and per element.
 *
 * Eq. 7 as printed divides by ᾱ_t; DDIM (Song et al., Eq. 12) divides by
 * √ᾱ_t, which is what is implemented (DESIGN.md, method 5):
 *   x̂_0     = (x_t − √(1−ᾱ_t) ε_θ) / √ᾱ_t
 *   x_{t−Δt} = √ᾱ_{t−Δt} x̂_0 + √(1 − ᾱ_{t−Δt} − σ_t²) ε_θ + σ_t z
 *   σ_t     = η √((1−ᾱ_{t−Δt})/(1−ᾱ_t)) √(1 − ᾱ_t/ᾱ_{t−Δt})
 */

/** The DDIM timesteps from τ down with stride Δt: τ, τ−Δt, …, all > 0; each step goes to max(t − Δt, 0). */
export function ddimTimesteps(tau: number, deltaT: number): number[] {
  if (!Number.isInteger(tau) || tau < 1) throw new RangeError(`DDIM: τ must be a positive integer, got ${tau}`);
  if (!Number.isInteger(deltaT) || deltaT < 1) throw new RangeError(`DDIM: Δt must be a positive integer, got ${deltaT}`);
  const ts: number[] = [];
  for (let t = tau; t > 0; t -= deltaT) ts.push(t);
  return ts;
}

/** Eq. 8 / Eq. 11: x_τ = √ᾱ_τ e + √(1−ᾱ_τ) ε. */
export function corrupt(e: Float32Array, alphaBarTau: number, noise: Float32Array, out = new Float32Array(e.length)): Float32Array {
  const a = Math.sqrt(alphaBarTau);
  const b = Math.sqrt(1 - alphaBarTau);
  for (let i = 0; i < e.length; i++) out[i] = a * e[i]! + b * noise[i]!;
  return out;
}

/** σ_t of Eq. 7 for stride Δt and η. */
export function ddimSigma(alphaBarT: number, alphaBarPrev: number, eta: number): number {
  if (eta === 0) return 0;
  return eta * Math.sqrt((1 - alphaBarPrev) / (1 - alphaBarT)) * Math.sqrt(1 - alphaBarT / alphaBarPrev);
}

/**
 * One DDIM step (Eq. 7, corrected): x_t, ε_θ(x_t, t) → x_{t−Δt}. `z` is
 * needed only when η > 0. Writes into `out` (may alias `xt`).
 */
export function ddimStep(xt: Float32Array, eps: Float32Array, alphaBarT: number, alphaBarPrev: number, eta: number, z?: Float32Array, out = new Float32Array(xt.length)): Float32Array {
  const sigma = ddimSigma(alphaBarT, alphaBarPrev, eta);
  if (sigma > 0 && z === undefined) throw new Error("DDIM step with η > 0 needs noise z");
  const { cx, ce, cz } = ddimCoefficients(alphaBarT, alphaBarPrev, sigma);
  for (let i = 0; i < xt.length; i++) out[i] = cx * xt[i]! + ce * eps[i]! + (sigma > 0 ? cz * z![i]! : 0);
  return out;
}

/**
 * The step folded into x_{t−Δt} = cx·x_t + ce·ε_θ + cz·z:
 * cx = √ᾱ_prev/√ᾱ_t, ce = √(1−ᾱ_prev−σ²) − √ᾱ_prev·√(1−ᾱ_t)/√ᾱ_t, cz = σ.
 */
export function ddimCoefficients(alphaBarT: number, alphaBarPrev: number, sigma: number): { cx: number; ce: number; cz: number } {
  const sa = Math.sqrt(alphaBarT);
  const sp = Math.sqrt(alphaBarPrev);
  const dir = Math.sqrt(Math.max(1 - alphaBarPrev - sigma * sigma, 0));
  return { cx: sp / sa, ce: dir - (sp * Math.sqrt(1 - alphaBarT)) / sa, cz: sigma };
}
