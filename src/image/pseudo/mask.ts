/**
 * A binary mask the size of an image (1 = anomalous, 0 = normal, row-major)
 * and the few operations the pseudo-anomaly generator needs on it: area,
 * bounding box, union, and rasterizing a shape at a position and angle.
 */
import type { Shape } from "./shapes.js";

export interface BinaryMask {
  readonly width: number;
  readonly height: number;
  /** width*height values, each 0 or 1. */
  readonly data: Uint8Array;
}

/** Inclusive pixel bounds of the set pixels. */
export interface MaskBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

export function emptyMask(width: number, height: number): BinaryMask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function maskArea(mask: BinaryMask): number {
  let n = 0;
  for (const v of mask.data) n += v;
  return n;
}

/** Bounding box of the set pixels, or undefined for an empty mask. */
export function maskBox(mask: BinaryMask): MaskBox | undefined {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < mask.height; y++) {
    const row = y * mask.width;
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[row + x] === 0) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  return x1 < 0 ? undefined : { x0, y0, x1, y1 };
}

export function unionMasks(masks: readonly BinaryMask[]): BinaryMask {
  const first = masks[0];
  if (!first) throw new RangeError("union of no masks");
  const out = emptyMask(first.width, first.height);
  for (const m of masks) {
    if (m.width !== first.width || m.height !== first.height) throw new RangeError(`union of masks of different sizes (${first.width}x${first.height} and ${m.width}x${m.height})`);
    for (let i = 0; i < m.data.length; i++) out.data[i]! |= m.data[i]!;
  }
  return out;
}

/** Where a shape goes on the image: its local origin at pixel coordinates (cx, cy), turned by `angle` radians. */
export interface Placement {
  readonly cx: number;
  readonly cy: number;
  readonly angle: number;
}

/**
 * Marks every pixel whose centre, mapped back into the shape's own frame,
 * lies inside it. Sampling pixel centres through the inverse rotation (rather
 * than rotating a drawn bitmap) keeps a rotated shape's area equal to the
 * unrotated one up to boundary pixels, and never leaves holes.
 */
export function rasterize(shape: Shape, width: number, height: number, at: Placement): BinaryMask {
  const mask = emptyMask(width, height);
  const r = shape.radius;
  const cos = Math.cos(at.angle);
  const sin = Math.sin(at.angle);
  const x0 = Math.max(0, Math.floor(at.cx - r - 1));
  const x1 = Math.min(width - 1, Math.ceil(at.cx + r + 1));
  const y0 = Math.max(0, Math.floor(at.cy - r - 1));
  const y1 = Math.min(height - 1, Math.ceil(at.cy + r + 1));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - at.cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - at.cx;
      // Inverse rotation: image offset → shape frame.
      const u = dx * cos + dy * sin;
      const v = -dx * sin + dy * cos;
      if (shape.inside(u, v)) mask.data[y * width + x] = 1;
    }
  }
  return mask;
}
