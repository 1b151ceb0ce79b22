/**
 * The outline of a ground-truth mask: mask pixels with a 4-neighbour outside
 * the mask or off the image. Drawn over a thumbnail it shows where the defect
 * is without hiding the image under it.
 */
export function maskOutline(mask: Uint8Array, width: number, height: number): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} pixels, expected ${width}x${height}`);
  const out = new Uint8Array(mask.length);
  const off = (x: number, y: number) => x < 0 || y < 0 || x >= width || y >= height || mask[y * width + x] === 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (mask[y * width + x] === 0) continue;
      if (off(x - 1, y) || off(x + 1, y) || off(x, y - 1) || off(x, y + 1)) out[y * width + x] = 1;
    }
  }
  return out;
}

/**
 * Shrinks (or stretches) a mask to width×height: an output pixel is set when
 * any source pixel under it is, so a defect one source pixel thin still shows
 * on a thumbnail (nearest-neighbour sampling would often drop it).
 */
export function resizeMaskAny(mask: Uint8Array, width: number, height: number, outWidth: number, outHeight: number): Uint8Array {
  if (mask.length !== width * height) throw new RangeError(`mask has ${mask.length} pixels, expected ${width}x${height}`);
  const out = new Uint8Array(outWidth * outHeight);
  for (let ty = 0; ty < outHeight; ty++) {
    const y0 = Math.floor((ty * height) / outHeight);
    const y1 = Math.max(y0 + 1, Math.ceil(((ty + 1) * height) / outHeight));
    for (let tx = 0; tx < outWidth; tx++) {
      const x0 = Math.floor((tx * width) / outWidth);
      const x1 = Math.max(x0 + 1, Math.ceil(((tx + 1) * width) / outWidth));
      let any = 0;
      for (let y = y0; y < y1 && !any; y++) for (let x = x0; x < x1; x++) if (mask[y * width + x]) { any = 1; break; }
      out[ty * outWidth + tx] = any;
    }
  }
  return out;
}
