/**
 * The form in which a frame is kept on disk (accepted normals, confirmed
 * defects): encoded images as they arrived (their bytes are what was
 * scored), raw pixels as a lossless PNG, so every stored frame is a
 * self-describing image file any tool can read.
 */
import sharp from "sharp";
import { decodeRaw } from "./decode.js";
import type { FrameInput } from "./frame.js";

export async function storableImage(frame: FrameInput): Promise<Uint8Array> {
  if (frame.kind === "encoded") return frame.bytes;
  const img = decodeRaw(frame.pixels, frame.width, frame.height, frame.format, { maxPixels: frame.width * frame.height });
  const channels = img.gray ? 1 : 3;
  const pixels = img.gray ? frame.pixels : img.rgb;
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: frame.width, height: frame.height, channels } })
    .png({ compressionLevel: 6 })
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
