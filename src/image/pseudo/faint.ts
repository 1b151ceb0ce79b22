/**
 * A faint pseudo-anomaly: a hairline or a soft spot whose tone (on a colour
 * frame, half the time its hue) differs from the surface by a few percent,
 * drawn into the target itself. No fragment, no seam, no foreign content.
 *
 * Why the set needs them: a pasted fragment carries the class's own
 * texture, so fine feature stages see it only at its rim, and a set of
 * pasted fragments alone ranks fine-resolution settings the opposite way of
 * real thin, low-contrast defects (session 12: on that set pixel AUROC fell
 * as the detail bank's weight rose, while on the test set it rose in all
 * three fits). The real suite's weak spots are of this kind: hairlines on a
 * 1024-px texture, small edge defects on glass, blowholes on tiles.
 *
 *   line — a gently bent polyline 1.5 px to 0.8 % of the shorter side wide
 *          and 10–50 % of the shorter side long, hard-edged as a scratch is;
 *   spot — an ellipse, polygon or noise blob of 0.05–1 % of the frame,
 *          edges feathered by a box filter (by up to a quarter of its side), its change modulated by smooth
 *          noise so it is not flat.
 * The contrast is log-uniform in 6–20 % of full scale. The ground truth is
 * where the feathered weight is at least one half. One draw here; the
 * caller (anomaly.ts) redraws when too little of it is visible.
 */
import type { RgbImage } from "../decode.js";
import { fbm } from "../synth/noise.js";
import type { Rng } from "../synth/rng.js";
import { emptyMask, maskBox, rasterize, type BinaryMask, type MaskBox } from "./mask.js";
import { FAMILY_SHAPES, polylineShape, type MaskFamily, type Shape } from "./shapes.js";

export const FAINT_KINDS = ["line", "spot"] as const;
export type FaintKind = (typeof FAINT_KINDS)[number];

const CONTRAST: readonly [number, number] = [0.06, 0.2];
const SPOT_AREA: readonly [number, number] = [0.0005, 0.01];
const SPOT_FAMILIES: readonly MaskFamily[] = ["ellipse", "polygon", "blob"];
const LINE_LENGTH: readonly [number, number] = [0.1, 0.5];

export interface FaintInfo {
  readonly kind: FaintKind;
  readonly family: MaskFamily;
  /** Largest change of a channel, as a fraction of full scale. */
  readonly contrast: number;
  /** Per-channel direction of the change, the largest magnitude 1: equal entries change the tone, unequal ones the hue. */
  readonly direction: readonly [number, number, number];
  /** A line's width, or a spot's feathering radius, in pixels. */
  readonly width: number;
}

export interface FaintDraw {
  readonly image: RgbImage;
  readonly mask: BinaryMask;
  readonly info: FaintInfo;
  /** Degrees, for the record. */
  readonly angle: number;
}

/**
 * The mean of `mask` over the (2r+1)² square around each pixel of `box`
 * grown by r (zero elsewhere): a feathered weight, 1 deep inside the shape
 * and falling to 0 over r pixels beyond its edge. Outside the image counts
 * as 0, so a shape cut by the border keeps a soft edge there too.
 */
export function featheredWeight(mask: BinaryMask, box: MaskBox, r: number): Float32Array {
  const { width, height, data } = mask;
  const out = new Float32Array(width * height);
  if (r <= 0) {
    for (let i = 0; i < data.length; i++) out[i] = data[i]!;
    return out;
  }
  const x0 = Math.max(0, box.x0 - r);
  const y0 = Math.max(0, box.y0 - r);
  const x1 = Math.min(width - 1, box.x1 + r);
  const y1 = Math.min(height - 1, box.y1 + r);
  // Integral image over the grown box, itself grown by r so every window lies inside it.
  const gx0 = Math.max(0, x0 - r);
  const gy0 = Math.max(0, y0 - r);
  const gx1 = Math.min(width - 1, x1 + r);
  const gy1 = Math.min(height - 1, y1 + r);
  const gw = gx1 - gx0 + 2;
  const table = new Float64Array(gw * (gy1 - gy0 + 2));
  for (let y = gy0; y <= gy1; y++) {
    let row = 0;
    for (let x = gx0; x <= gx1; x++) {
      row += data[y * width + x]!;
      table[(y - gy0 + 1) * gw + (x - gx0 + 1)] = table[(y - gy0) * gw + (x - gx0 + 1)]! + row;
    }
  }
  const at = (x: number, y: number) => table[(y - gy0) * gw + (x - gx0)]!;
  const area = (2 * r + 1) ** 2;
  for (let y = y0; y <= y1; y++) {
    const ya = Math.max(gy0, y - r);
    const yb = Math.min(gy1, y + r) + 1;
    for (let x = x0; x <= x1; x++) {
      const xa = Math.max(gx0, x - r);
      const xb = Math.min(gx1, x + r) + 1;
      out[y * width + x] = (at(xb, yb) - at(xa, yb) - at(xb, ya) + at(xa, ya)) / area;
    }
  }
  return out;
}

/** A direction of change: the same for every channel on a gray frame or half the time (tone), else a random hue shift; the largest magnitude is 1. */
function drawDirection(rng: Rng, gray: boolean): [number, number, number] {
  const sign = rng.chance(0.5) ? 1 : -1;
  if (gray || rng.chance(0.5)) return [sign, sign, sign];
  const d = [rng.range(-1, 1), rng.range(-1, 1), rng.range(-1, 1)];
  const top = Math.max(...d.map(Math.abs));
  return d.map((v) => Math.round((v / top) * 1000) / 1000) as [number, number, number];
}

/** Where a shape goes: inside the frame when it fits, centred on the short axis when it does not. */
function place(rng: Rng, shape: Shape, width: number, height: number): { cx: number; cy: number; angle: number } {
  const r = shape.radius;
  const cx = width > 2 * r ? rng.range(r, width - r) : width / 2;
  const cy = height > 2 * r ? rng.range(r, height - r) : height / 2;
  return { cx, cy, angle: rng.range(0, 2 * Math.PI) };
}

/** One faint anomaly on `target` (undefined only when the drawn shape missed every pixel). */
export function drawFaint(rng: Rng, target: RgbImage): FaintDraw | undefined {
  const { width, height } = target;
  const minSide = Math.min(width, height);
  const kind: FaintKind = rng.chance(0.5) ? "line" : "spot";
  let shape: Shape;
  let family: MaskFamily;
  let size: number;
  let feather: number;
  if (kind === "line") {
    size = Math.round(rng.range(1.5, Math.max(3, 0.008 * minSide)) * 10) / 10;
    shape = polylineShape(rng, rng.range(LINE_LENGTH[0], LINE_LENGTH[1]) * minSide, size);
    family = "scratch";
    feather = 0;
  } else {
    family = rng.pick(SPOT_FAMILIES);
    const area = rng.logRange(SPOT_AREA[0], SPOT_AREA[1]) * width * height;
    shape = FAMILY_SHAPES[family](rng, { area, minSide });
    // A quarter of the spot's side, at most 8 px; none for a spot of a few pixels, which feathering would erase.
    feather = Math.min(8, Math.floor(0.25 * Math.sqrt(area)));
    size = feather;
  }
  const at = place(rng, shape, width, height);
  const drawn = rasterize(shape, width, height, at);
  const box = maskBox(drawn);
  if (!box) return undefined;
  const weight = featheredWeight(drawn, box, feather);
  const contrast = Math.round(rng.logRange(CONTRAST[0], CONTRAST[1]) * 1000) / 1000;
  const direction = drawDirection(rng, target.gray);
  const noiseSeed = rng.seed() | 0;
  const noiseScale = Math.max(2, 2 * feather);
  const rgb = new Uint8Array(target.rgb);
  const mask = emptyMask(width, height);
  const x0 = Math.max(0, box.x0 - feather);
  const y0 = Math.max(0, box.y0 - feather);
  const x1 = Math.min(width - 1, box.x1 + feather);
  const y1 = Math.min(height - 1, box.y1 + feather);
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = y * width + x;
      const w = weight[i]!;
      if (w <= 0) continue;
      if (w >= 0.5) mask.data[i] = 1;
      // A spot's change varies over it (0.7–1.3 of the contrast); a hairline's is even.
      const modulation = kind === "spot" ? 1 + 0.3 * fbm(x / noiseScale, y / noiseScale, noiseSeed, 2) : 1;
      const delta = w * modulation * contrast * 255;
      for (let c = 0; c < 3; c++) {
        const v = rgb[3 * i + c]! + delta * direction[c]!;
        rgb[3 * i + c] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
      }
    }
  }
  return {
    image: { width, height, rgb, gray: target.gray },
    mask,
    info: { kind, family, contrast, direction, width: size },
    angle: Math.round((at.angle * 180) / Math.PI),
  };
}
