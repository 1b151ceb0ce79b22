/**
 * CutPaste-style pasting: the pixels under a mask are taken from a source
 * image at a shifted position, optionally flipped/turned and re-lit, and
 * written over a target image. Pure: images in, new image out.
 */
import type { RgbImage } from "../decode.js";
import type { BinaryMask, MaskBox } from "./mask.js";

/**
 * The eight flips and quarter turns (the dihedral group of the square), as
 * the image of a local offset (u, v): index bit 0 flips u, bit 1 flips v,
 * bit 2 swaps the axes. 0 is the identity.
 */
export type ContentTransform = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export function transformOffset(t: ContentTransform, u: number, v: number): [number, number] {
  let a = t & 1 ? -u : u;
  let b = t & 2 ? -v : v;
  if (t & 4) [a, b] = [b, a];
  return [a, b];
}

export interface PasteParams {
  /** Source position minus target position of the fragment's centre, in pixels. */
  readonly dx: number;
  readonly dy: number;
  readonly transform: ContentTransform;
  /** Per-pixel re-lighting of the fragment: v' = mean + gain·(v − mean) + bias, 8-bit levels, mean over the fragment. */
  readonly gain: number;
  readonly bias: number;
}

export const IDENTITY_PASTE: PasteParams = { dx: 0, dy: 0, transform: 0, gain: 1, bias: 0 };

function clampInt(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * For target pixel (x, y) under the mask, the source pixel is
 * centre + T(p − centre) + (dx, dy), centre being the middle of the mask's
 * box; coordinates are rounded and clamped to the source so a fragment near
 * an edge repeats the edge rather than failing. The source must already
 * have the target's size (see fitSource). A gray target stays gray: the
 * fragment is reduced to its luma first.
 */
export function pasteFragment(target: RgbImage, source: RgbImage, mask: BinaryMask, box: MaskBox, p: PasteParams): RgbImage {
  const { width, height } = target;
  if (source.width !== width || source.height !== height || mask.width !== width || mask.height !== height) {
    throw new RangeError(`paste needs equal sizes: target ${width}x${height}, source ${source.width}x${source.height}, mask ${mask.width}x${mask.height}`);
  }
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const fragment: number[] = [];
  const where: number[] = [];
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      const i = y * width + x;
      if (mask.data[i] === 0) continue;
      const [u, v] = transformOffset(p.transform, x - cx, y - cy);
      const sx = clampInt(Math.round(cx + u + p.dx), 0, width - 1);
      const sy = clampInt(Math.round(cy + v + p.dy), 0, height - 1);
      const s = 3 * (sy * width + sx);
      const r = source.rgb[s]!;
      const g = source.rgb[s + 1]!;
      const b = source.rgb[s + 2]!;
      if (target.gray && !source.gray) {
        const l = 0.299 * r + 0.587 * g + 0.114 * b;
        fragment.push(l, l, l);
      } else {
        fragment.push(r, g, b);
      }
      where.push(i);
    }
  }
  let mean = 0;
  for (const v of fragment) mean += v;
  mean /= Math.max(1, fragment.length);
  const rgb = new Uint8Array(target.rgb);
  for (let k = 0; k < where.length; k++) {
    const o = 3 * where[k]!;
    for (let c = 0; c < 3; c++) {
      const v = fragment[3 * k + c]!;
      const lit = p.gain === 1 && p.bias === 0 ? v : mean + p.gain * (v - mean) + p.bias;
      rgb[o + c] = clampInt(Math.round(lit), 0, 255);
    }
  }
  return { width, height, rgb, gray: target.gray };
}

/**
 * Share of mask pixels where some channel moved by at least `threshold`
 * 8-bit levels: how much of the pasted region one can actually see.
 */
export function visibleFraction(before: RgbImage, after: RgbImage, mask: BinaryMask, threshold: number): number {
  let set = 0;
  let seen = 0;
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === 0) continue;
    set++;
    const o = 3 * i;
    const d = Math.max(Math.abs(before.rgb[o]! - after.rgb[o]!), Math.abs(before.rgb[o + 1]! - after.rgb[o + 1]!), Math.abs(before.rgb[o + 2]! - after.rgb[o + 2]!));
    if (d >= threshold) seen++;
  }
  return set === 0 ? 0 : seen / set;
}
