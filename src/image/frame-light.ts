/**
 * A frame's light: the mean level of each colour channel over the input
 * pixels that show the frame (its placement in the S×S input; a letterbox
 * border, the frame reflected or repeated, is left out so a frame's edges
 * do not count twice). The backbone's features are made to shrug off light
 * (an image 60 levels brighter than its class lay within 1.12 of its
 * class's reach in them, bench:look), so a lamp that failed bright, or an
 * exposure gone wrong, could pass OK; its mean levels show it plainly. Pure.
 */
import type { Placement } from "./geometry.js";

/** Channels per pixel of the backbone's input (planar RGB). */
const CHANNELS = 3;

/**
 * The mean of each channel (r, g, b, in the input's [0, 255]) over the rectangle `place` of the `index`-th S×S planar
 * RGB image in `batch`; the whole square without `place`.
 */
export function frameLight(batch: Float32Array, index: number, size: number, place?: Placement): [number, number, number] {
  const plane = size * size;
  const base = index * CHANNELS * plane;
  if (base + CHANNELS * plane > batch.length) throw new RangeError(`image ${index} of ${size}×${size} is past a batch of ${batch.length} values`);
  const { x, y, w, h } = place ?? { x: 0, y: 0, w: size, h: size };
  if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > size || y + h > size) throw new RangeError(`placement ${w}×${h} at (${x}, ${y}) is outside the ${size}×${size} input`);
  const out: [number, number, number] = [0, 0, 0];
  for (let ch = 0; ch < CHANNELS; ch++) {
    let sum = 0;
    const offset = base + ch * plane;
    for (let row = y; row < y + h; row++) {
      const start = offset + row * size + x;
      for (let i = start; i < start + w; i++) sum += batch[i]!;
    }
    out[ch] = sum / (w * h);
  }
  return out;
}
