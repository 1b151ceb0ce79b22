/**
 * Frame decoding: any supported encoded image (detected by content, never by
 * file name) or raw 8-bit pixels → interleaved RGB. This is the only place
 * untrusted image bytes are parsed, so every size is checked before any
 * allocation proportional to it.
 */
import sharp from "sharp";
import { LEGACY_FIT, LETTERBOX_GRAY, placement, type FrameFit } from "./geometry.js";
import { decodeBmp, isBmp, type RgbImage } from "./bmp.js";
import { invalidInput } from "../util/errors.js";
import type { FrameInput, PixelFormat } from "./frame.js";

export type { RgbImage };

export interface DecodeLimits {
  /** Largest accepted width×height. Default fits an 8K frame. */
  readonly maxPixels: number;
}

export const DEFAULT_LIMITS: DecodeLimits = { maxPixels: 7680 * 4320 };

const CHANNELS: Record<PixelFormat, number> = { gray8: 1, rgb8: 3, bgr8: 3 };

export async function decodeFrame(frame: FrameInput, limits: DecodeLimits = DEFAULT_LIMITS): Promise<RgbImage> {
  return frame.kind === "raw" ? decodeRaw(frame.pixels, frame.width, frame.height, frame.format, limits) : decodeEncoded(frame.bytes, limits);
}

/**
 * The size checks of a raw frame, before anything proportional to it is
 * allocated: the server runs them before a frame takes a queue slot, and
 * decodeRaw again for callers that skip the server.
 */
export function checkRawFrame(width: number, height: number, format: PixelFormat, byteLength: number, limits: DecodeLimits = DEFAULT_LIMITS): number {
  const channels = CHANNELS[format];
  if (channels === undefined) throw invalidInput(`unknown pixel format '${String(format)}' (expected gray8, rgb8 or bgr8)`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw invalidInput(`raw frame size ${width}x${height} is invalid: width and height must be positive integers`);
  }
  if (width * height > limits.maxPixels) throw invalidInput(`raw frame of ${width}x${height} exceeds the ${limits.maxPixels}-pixel limit`);
  const expected = width * height * channels;
  if (byteLength !== expected) {
    throw invalidInput(`raw ${format} frame of ${width}x${height} needs ${expected} bytes (width*height*${channels}), got ${byteLength}`);
  }
  return channels;
}

export function decodeRaw(pixels: Uint8Array, width: number, height: number, format: PixelFormat, limits: DecodeLimits = DEFAULT_LIMITS): RgbImage {
  checkRawFrame(width, height, format, pixels.length, limits);
  const rgb = new Uint8Array(width * height * 3);
  if (format === "gray8") {
    for (let i = 0; i < width * height; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = pixels[i]!;
  } else if (format === "bgr8") {
    for (let i = 0; i < width * height; i++) {
      rgb[3 * i] = pixels[3 * i + 2]!;
      rgb[3 * i + 1] = pixels[3 * i + 1]!;
      rgb[3 * i + 2] = pixels[3 * i]!;
    }
  } else {
    rgb.set(pixels);
  }
  return { width, height, rgb, gray: format === "gray8" };
}

export async function decodeEncoded(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Promise<RgbImage> {
  if (bytes.length === 0) throw invalidInput("image is empty (0 bytes)");
  if (isBmp(bytes)) return decodeBmp(bytes, limits.maxPixels);
  try {
    const image = sharp(bytes, { limitInputPixels: limits.maxPixels, failOn: "truncated", sequentialRead: true });
    const meta = await image.metadata();
    const { data, info } = await image
      .rotate() // honour EXIF orientation so heatmaps line up with what the camera meant
      .removeAlpha()
      .toColourspace("srgb")
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw invalidInput(`decoded image has ${info.channels} channels, expected 3 after conversion`);
    const gray = meta.channels === 1 || meta.channels === 2 || meta.space === "b-w";
    return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), gray };
  } catch (err) {
    if ((err as { code?: string }).code === "INVALID_INPUT") throw err;
    throw invalidInput(`cannot decode image (${bytes.length} bytes): ${describeSharpError(err)}`, err);
  }
}

function describeSharpError(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(msg)) return "not a supported image format (JPEG, PNG, TIFF, BMP, WebP)";
  if (/pixel limit/i.test(msg)) return "image exceeds the pixel limit";
  return msg.split("\n")[0]!;
}

/**
 * The backbone's input: the image resized into S×S with bilinear
 * interpolation, stretched or letterboxed with its border filled
 * (geometry.ts), laid out as planar float32 RGB in [0, 255] (NCHW without
 * N). The backbone graph itself applies its own normalization, so this
 * stays model-agnostic.
 */
export async function toModelInput(image: RgbImage, size: number, fit: FrameFit = LEGACY_FIT): Promise<Float32Array> {
  const p = placement(image.width, image.height, size, fit.aspect);
  const gray = { r: LETTERBOX_GRAY, g: LETTERBOX_GRAY, b: LETTERBOX_GRAY };
  const extendWith = fit.border === "gray" ? "background" : fit.border === "edge" ? "copy" : "mirror";
  const resized =
    image.width === size && image.height === size
      ? image.rgb
      : await sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } })
          .resize(p.w, p.h, { fit: "fill", kernel: "linear" })
          .extend({ top: p.y, bottom: size - p.h - p.y, left: p.x, right: size - p.w - p.x, background: gray, extendWith })
          .raw()
          .toBuffer();
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = resized[3 * i]!;
    out[plane + i] = resized[3 * i + 1]!;
    out[2 * plane + i] = resized[3 * i + 2]!;
  }
  return out;
}

/** Reads a mask image: anomaly is any non-zero pixel (any channel). */
export async function decodeMask(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_LIMITS): Promise<{ width: number; height: number; mask: Uint8Array }> {
  const img = await decodeEncoded(bytes, limits);
  const n = img.width * img.height;
  const mask = new Uint8Array(n);
  for (let i = 0; i < n; i++) mask[i] = img.rgb[3 * i]! | img.rgb[3 * i + 1]! | img.rgb[3 * i + 2]! ? 1 : 0;
  return { width: img.width, height: img.height, mask };
}
