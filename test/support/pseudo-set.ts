/**
 * A small pseudo-validation set for tuning tests: 6×4×4 feature maps of
 * noise (S 16), the anomalous ones with a bump at grid position 5, marked
 * by a 4×4 patch of the mask.
 */
import type { PseudoFeature } from "../../src/pipeline/tune/pseudo-features.js";
import type { createRng } from "../../src/util/random.js";

export const SET_SHAPE = { c: 6, h: 4, w: 4, S: 16 } as const;

/** One sample; `bump(rng)` is the anomalous position's value in every channel. */
export function pseudoSample(rng: ReturnType<typeof createRng>, cls: string, anomalous: boolean, bump: (r: ReturnType<typeof createRng>) => number = () => 3): PseudoFeature {
  const { c, h, w, S } = SET_SHAPE;
  const data = new Float32Array(c * h * w);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * 0.3;
  const mask = new Uint8Array(S * S);
  if (anomalous) {
    for (let ch = 0; ch < c; ch++) data[ch * h * w + 5] = bump(rng);
    for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) mask[y * S + x] = 1;
  }
  return { cls, anomalous, x: { c, h, w, data }, ...(anomalous ? { mask } : {}) };
}
