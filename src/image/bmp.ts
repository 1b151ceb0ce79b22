/**
 * A small Windows BMP reader. sharp's libvips build has no BMP loader, and
 * line-scan cameras and old vision PCs still write BMP, often with a .png
 * name. Supports uncompressed 1/4/8-bit palette, 24-bit and 32-bit (BI_RGB
 * and BI_BITFIELDS with the usual masks), top-down and bottom-up rows.
 */
import { invalidInput } from "../util/errors.js";

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** Interleaved 8-bit RGB, row-major. */
  readonly rgb: Uint8Array;
  /** True when the source had one channel (or a gray palette). */
  readonly gray: boolean;
}

export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export function decodeBmp(bytes: Uint8Array, maxPixels: number): RgbImage {
  if (bytes.length < 54) throw invalidInput(`BMP is truncated: ${bytes.length} bytes, header needs 54`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw invalidInput(`BMP header of ${headerSize} bytes (OS/2 core header) is not supported`);
  const width = view.getInt32(18, true);
  const rawHeight = view.getInt32(22, true);
  const bpp = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  const topDown = rawHeight < 0;
  if (width <= 0 || height <= 0) throw invalidInput(`BMP has invalid size ${width}x${rawHeight}`);
  if (width * height > maxPixels) throw invalidInput(`BMP of ${width}x${height} exceeds the ${maxPixels}-pixel limit`);
  if (![1, 4, 8, 24, 32].includes(bpp)) throw invalidInput(`BMP with ${bpp} bits per pixel is not supported`);
  // 0 = BI_RGB, 3 = BI_BITFIELDS (only meaningful for 16/32-bit; we accept the common 8-8-8 masks).
  if (compression !== 0 && !(compression === 3 && bpp === 32)) throw invalidInput(`compressed BMP (method ${compression}) is not supported`);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > bytes.length) throw invalidInput(`BMP is truncated: pixel data needs ${dataOffset + stride * height} bytes, file has ${bytes.length}`);

  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const colours = view.getUint32(46, true) || 1 << bpp;
    const start = 14 + headerSize;
    if (start + colours * 4 > dataOffset) throw invalidInput("BMP palette overlaps pixel data");
    palette = bytes.subarray(start, start + colours * 4);
  }
  let shifts = [16, 8, 0];
  if (compression === 3) {
    const masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
    shifts = masks.map((m) => {
      if (m === 0) throw invalidInput("BMP bitfield mask is empty");
      let s = 0;
      while (((m >>> s) & 1) === 0) s++;
      if (m >>> s !== 0xff) throw invalidInput("BMP bitfields other than 8 bits per channel are not supported");
      return s;
    });
  }

  const rgb = new Uint8Array(width * height * 3);
  let gray = true;
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      let r: number, g: number, b: number;
      if (palette) {
        const idx = bpp === 8 ? bytes[row + x]! : bpp === 4 ? (bytes[row + (x >> 1)]! >> (x & 1 ? 0 : 4)) & 0xf : (bytes[row + (x >> 3)]! >> (7 - (x & 7))) & 1;
        if (idx * 4 + 2 >= palette.length) throw invalidInput(`BMP palette index ${idx} out of range`);
        b = palette[idx * 4]!;
        g = palette[idx * 4 + 1]!;
        r = palette[idx * 4 + 2]!;
      } else if (bpp === 24) {
        const p = row + x * 3;
        b = bytes[p]!;
        g = bytes[p + 1]!;
        r = bytes[p + 2]!;
      } else {
        const v = view.getUint32(row + x * 4, true);
        r = (v >>> shifts[0]!) & 0xff;
        g = (v >>> shifts[1]!) & 0xff;
        b = (v >>> shifts[2]!) & 0xff;
      }
      const o = (y * width + x) * 3;
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
      if (r !== g || g !== b) gray = false;
    }
  }
  return { width, height, rgb, gray };
}
