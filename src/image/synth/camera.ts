/**
 * The simulated camera: exposure gain, uneven illumination, white balance and
 * sensor noise turn a scene into 8-bit pixels. A clean scene and its defective
 * copy go through the same camera (same noise field), so the two outputs
 * differ only where the defect changed the scene; that is what the masks mark.
 */
import type { Rng } from "./rng.js";
import type { Channels, Image8, Raster } from "./raster.js";

export interface Camera {
  readonly gain: number;
  /** Illumination slope across the frame, fraction per frame width/height. */
  readonly slopeX: number;
  readonly slopeY: number;
  /** Darkening at the corners relative to the centre. */
  readonly vignette: number;
  /** Per-channel white-balance multipliers (length = channels). */
  readonly balance: readonly number[];
  /** Additive noise in [0, 1] units, one value per pixel and channel. */
  readonly noise: Float32Array;
}

export interface CameraRanges {
  readonly gain: readonly [number, number];
  readonly slope: number;
  readonly vignette: readonly [number, number];
  readonly balance: number;
  readonly noiseSigma: readonly [number, number];
}

export function randomCamera(rng: Rng, width: number, height: number, channels: Channels, ranges: CameraRanges): Camera {
  const gain = rng.range(ranges.gain[0], ranges.gain[1]);
  const slopeX = rng.range(-ranges.slope, ranges.slope);
  const slopeY = rng.range(-ranges.slope, ranges.slope);
  const vignette = rng.range(ranges.vignette[0], ranges.vignette[1]);
  const balance: number[] = [];
  for (let c = 0; c < channels; c++) balance.push(channels === 1 ? 1 : 1 + rng.range(-ranges.balance, ranges.balance));
  const sigma = rng.range(ranges.noiseSigma[0], ranges.noiseSigma[1]);
  const noise = new Float32Array(width * height * channels);
  for (let i = 0; i < noise.length; i++) noise[i] = sigma * rng.normal();
  return { gain, slopeX, slopeY, vignette, balance, noise };
}

export function expose(scene: Raster, cam: Camera): Image8 {
  const { width: w, height: h, channels: ch } = scene;
  const out = new Uint8Array(w * h * ch);
  const src = scene.data;
  for (let y = 0; y < h; y++) {
    const ny = y / (h - 1) - 0.5;
    for (let x = 0; x < w; x++) {
      const nx = x / (w - 1) - 0.5;
      const light = cam.gain * (1 + cam.slopeX * nx + cam.slopeY * ny) * (1 - cam.vignette * 2 * (nx * nx + ny * ny));
      const base = (y * w + x) * ch;
      for (let c = 0; c < ch; c++) {
        const v = (src[base + c] as number) * light * (cam.balance[c] as number) + (cam.noise[base + c] as number);
        out[base + c] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
      }
    }
  }
  return { width: w, height: h, channels: ch, data: out };
}
