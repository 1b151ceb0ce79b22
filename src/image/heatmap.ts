/**
 * Heatmap and mask rendering for anomaly maps at the frame's own size.
 *
 * Scale: a map value v is shown at t = v / (2·threshold), clamped to [0, 1],
 * so the decision threshold always sits mid-scale and colours mean the same
 * thing on every frame of a model (blue: normal, green/yellow: near the
 * threshold, red: twice the threshold and above). Alpha grows with t, so the
 * RGBA heatmap can be composited straight over the frame.
 */
import sharp from "sharp";

/** 256-entry jet-like colormap, RGB interleaved. */
export const COLORMAP: Uint8Array = buildColormap();

function buildColormap(): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = i / 255;
    const r = clamp01(1.5 - Math.abs(4 * t - 3));
    const g = clamp01(1.5 - Math.abs(4 * t - 2));
    const b = clamp01(1.5 - Math.abs(4 * t - 1));
    lut[3 * i] = Math.round(255 * r);
    lut[3 * i + 1] = Math.round(255 * g);
    lut[3 * i + 2] = Math.round(255 * b);
  }
  return lut;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** The value shown at the top of the scale: 2·threshold, or the map's max when the threshold is not positive. */
export function scaleTop(map: Float32Array, threshold: number): number {
  if (threshold > 0 && Number.isFinite(threshold)) return 2 * threshold;
  let max = 0;
  for (const v of map) if (v > max) max = v;
  return max > 0 ? max : 1;
}

/** RGBA pixels of the heatmap (row-major, width×height×4). */
export function heatmapRgba(map: Float32Array, width: number, height: number, threshold: number): Uint8Array {
  if (map.length !== width * height) throw new RangeError(`map has ${map.length} values, expected ${width}x${height}`);
  const top = scaleTop(map, threshold);
  const out = new Uint8Array(width * height * 4);
  for (let i = 0; i < map.length; i++) {
    const v = map[i]!;
    const t = Number.isFinite(v) ? clamp01(v / top) : 1;
    const k = Math.round(t * 255);
    out[4 * i] = COLORMAP[3 * k]!;
    out[4 * i + 1] = COLORMAP[3 * k + 1]!;
    out[4 * i + 2] = COLORMAP[3 * k + 2]!;
    out[4 * i + 3] = Math.round(64 + 160 * t);
  }
  return out;
}

/** The heatmap as an RGBA PNG at width×height. */
export async function renderHeatmapPng(map: Float32Array, width: number, height: number, threshold: number): Promise<Buffer> {
  const rgba = heatmapRgba(map, width, height, threshold);
  return sharp(rgba, { raw: { width, height, channels: 4 } }).png({ compressionLevel: 3 }).toBuffer();
}

/** A grayscale PNG at width×height: 255 where the map is above the threshold, 0 elsewhere. */
export async function renderMaskPng(map: Float32Array, width: number, height: number, threshold: number): Promise<Buffer> {
  if (map.length !== width * height) throw new RangeError(`map has ${map.length} values, expected ${width}x${height}`);
  const mask = new Uint8Array(width * height);
  for (let i = 0; i < map.length; i++) mask[i] = map[i]! > threshold ? 255 : 0;
  return maskPng(mask, width, height);
}

/** The mask of a frame nothing of which is above its threshold: what renderMaskPng gives such a map, without the map. */
export async function emptyMaskPng(width: number, height: number): Promise<Buffer> {
  return maskPng(new Uint8Array(width * height), width, height);
}

function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(mask, { raw: { width, height, channels: 1 } }).png({ compressionLevel: 3 }).toBuffer();
}

/**
 * Composites an RGBA heatmap PNG over an encoded image (EXIF orientation
 * applied, as the daemon does when decoding) and returns a PNG. The heatmap
 * is resized to the image if their sizes differ.
 */
export async function overlayHeatmap(image: Uint8Array, heatmapPng: Uint8Array): Promise<Buffer> {
  const base = sharp(image).rotate().removeAlpha();
  const { data, info } = await base.raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(heatmapPng).metadata();
  let heat = Buffer.from(heatmapPng);
  if (meta.width !== info.width || meta.height !== info.height) {
    heat = await sharp(heatmapPng).resize(info.width, info.height, { fit: "fill" }).png().toBuffer();
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .composite([{ input: heat }])
    .png()
    .toBuffer();
}
