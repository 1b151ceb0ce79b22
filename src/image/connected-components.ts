/**
 * Connected regions of a binary mask: the PRO metric's ground-truth defects
 * (measures/pro.ts) and the daemon's defect regions (pipeline/regions.ts).
 * 8-connectivity (diagonal neighbours join), as MVTec AD's official
 * evaluation (scipy.ndimage.label with a 3×3 structure of ones) and anomalib
 * (cv2.connectedComponents, default connectivity 8) do, so that one diagonal scratch counts as one defect, not as a string of pixels.
 */
import { invalidInput } from "../util/errors.js";

export interface MaskRegions {
  /** Per pixel: 0 outside the mask, else the region number 1..count. */
  readonly labels: Int32Array;
  /** sizes[r − 1] = pixel count of region r. */
  readonly sizes: readonly number[];
  readonly count: number;
}

/** Labels the nonzero pixels of a row-major width×height mask into 8-connected regions (flood fill, O(pixels)). */
export function labelRegions(mask: Uint8Array, width: number, height: number): MaskRegions {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || mask.length !== width * height) {
    throw invalidInput(`mask regions: ${mask.length} pixels do not form a ${width}×${height} mask`);
  }
  const labels = new Int32Array(mask.length);
  const sizes: number[] = [];
  // Each pixel is pushed at most once (labelled when pushed), so the stack never outgrows the mask.
  const stack = new Int32Array(mask.length);
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    const label = sizes.length + 1;
    let top = 0;
    let size = 0;
    stack[top++] = start;
    labels[start] = label;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] !== 0 && labels[q] === 0) {
            labels[q] = label;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes, count: sizes.length };
}
