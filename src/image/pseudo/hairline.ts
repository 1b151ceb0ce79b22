/**
 * A hairline anomaly: a thin (1–2 px), faint (4–10 % darker or lighter)
 * line drawn across part of a normal frame, gently curving. The pasted
 * fragments of the pseudo-validation set are blobs many pixels wide; a
 * scratch, crack or thread one pixel wide on a frame several times the
 * model's input is the defect a frame's tiles are there to see (the real
 * suite's 1024-px texture: "thin, low-contrast defects", pixel AUROC 88), so
 * the tiles' pseudo-validation (pipeline/tiling/tile-choice.ts) measures
 * them on these as well.
 */
import type { RgbImage } from "../decode.js";
import type { Rng } from "../synth/rng.js";

export interface Hairline {
  readonly image: RgbImage;
  /** width*height values, 0 or 1: the pixels the line changed. */
  readonly mask: Uint8Array;
}

/** The line's bounds: length as a share of the frame's shorter side, contrast as a share of the pixel's level. */
export const HAIRLINE_LENGTH = [0.2, 0.6] as const;
export const HAIRLINE_CONTRAST = [0.04, 0.1] as const;

export function synthesizeHairline(target: RgbImage, rng: Rng): Hairline {
  const { width, height } = target;
  const short = Math.min(width, height);
  const length = short * rng.range(HAIRLINE_LENGTH[0], HAIRLINE_LENGTH[1]);
  const thick = rng.chance(0.5) ? 2 : 1;
  const gain = 1 + (rng.chance(0.5) ? -1 : 1) * rng.range(HAIRLINE_CONTRAST[0], HAIRLINE_CONTRAST[1]);
  let heading = rng.range(0, 2 * Math.PI);
  // Start where the whole line fits inside the frame whatever its heading, a margin of 2 px kept.
  const margin = Math.min(length / 2 + 2, short / 2 - 1);
  let x = rng.range(margin, width - margin);
  let y = rng.range(margin, height - margin);
  // Walk back half the length so the line is centred on the start point.
  x -= (Math.cos(heading) * length) / 2;
  y -= (Math.sin(heading) * length) / 2;
  const mask = new Uint8Array(width * height);
  const segments = 12;
  const step = 0.5;
  for (let s = 0; s < segments; s++) {
    heading += rng.range(-0.15, 0.15);
    const [dx, dy] = [Math.cos(heading), Math.sin(heading)];
    for (let d = 0; d < length / segments; d += step) {
      x += dx * step;
      y += dy * step;
      mark(mask, width, height, Math.round(x), Math.round(y));
      // The second pixel across the line: beside it along the axis the line runs less along.
      if (thick === 2) mark(mask, width, height, Math.round(x + (Math.abs(dy) > Math.abs(dx) ? 1 : 0)), Math.round(y + (Math.abs(dy) > Math.abs(dx) ? 0 : 1)));
    }
  }
  const rgb = Uint8Array.from(target.rgb);
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    for (let ch = 0; ch < 3; ch++) rgb[3 * i + ch] = Math.max(0, Math.min(255, Math.round(rgb[3 * i + ch]! * gain)));
  }
  return { image: { ...target, rgb }, mask };
}

function mark(mask: Uint8Array, width: number, height: number, x: number, y: number): void {
  if (x >= 0 && y >= 0 && x < width && y < height) mask[y * width + x] = 1;
}
