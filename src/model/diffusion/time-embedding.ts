/**
 * Sinusoidal timestep embedding (Vaswani et al.; as in DDPM/ADM). Computed on
 * the host and fed to the U-Net as `temb` [N, d]; the MLP that follows is in
 * the graph. Layout: [cos(t·f_0..f_{d/2−1}), sin(t·f_0..f_{d/2−1})] with
 * f_i = 10000^(−i/(d/2)).
 */
export function timestepEmbedding(timesteps: ArrayLike<number>, dim: number, out = new Float32Array(timesteps.length * dim)): Float32Array {
  if (dim % 2 !== 0) throw new RangeError(`timestep embedding: dim must be even, got ${dim}`);
  const half = dim / 2;
  for (let n = 0; n < timesteps.length; n++) {
    const t = timesteps[n]!;
    for (let i = 0; i < half; i++) {
      const a = t * Math.exp((-Math.log(10000) * i) / half);
      out[n * dim + i] = Math.cos(a);
      out[n * dim + half + i] = Math.sin(a);
    }
  }
  return out;
}
