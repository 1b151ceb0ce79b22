/**
 * A source image for pasting must have the target's size: a source of
 * another size (another class, or a camera with another resolution) is
 * resized to it first (bilinear, aspect not kept: the fragment is a texture
 * sample, not a picture to preserve).
 */
import sharp from "sharp";
import type { RgbImage } from "../decode.js";

export async function fitSource(source: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (source.width === width && source.height === height) return source;
  const data = await sharp(source.rgb, { raw: { width: source.width, height: source.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  return { width, height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), gray: source.gray };
}
