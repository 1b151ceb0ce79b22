/**
 * Exponential moving average of the U-Net weights (Polyak averaging, as in
 * DDPM/ADM training), used for the exported inference model when
 * `diffusion.ema` is set: after each optimizer step,
 *   shadow ← d·shadow + (1 − d)·θ,   d = min(decay, (1 + n)/(10 + n))
 * with n the number of steps averaged so far (0 for the first). The warm-up
 * factor (1+n)/(10+n) (TensorFlow's ExponentialMovingAverage with
 * num_updates) keeps a short run from exporting mostly its starting weights:
 * with decay 0.999 a 300-step run would otherwise keep 74 % of them.
 * Computed on the host over the parameter arrays (a few M floats per step,
 * small beside the step itself). Pure arithmetic, float32 storage.
 */

/** The decay applied at the update after `n` earlier updates. */
export function emaDecayAt(decay: number, n: number): number {
  return Math.min(decay, (1 + n) / (10 + n));
}

/** A fresh shadow: copies of the starting weights. */
export function emaInit(params: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  return new Map([...params].map(([k, x]) => [k, Float32Array.from(x)]));
}

/** One EMA update in place: shadow ← d·shadow + (1 − d)·params, d = emaDecayAt(decay, n). */
export function emaUpdate(shadow: Map<string, Float32Array>, params: ReadonlyMap<string, Float32Array>, decay: number, n: number): void {
  const d = emaDecayAt(decay, n);
  for (const [name, p] of params) {
    const s = shadow.get(name);
    if (!s || s.length !== p.length) throw new Error(`weight EMA: no shadow of ${p.length} values for '${name}'`);
    for (let i = 0; i < p.length; i++) s[i] = d * s[i]! + (1 - d) * p[i]!;
  }
}
