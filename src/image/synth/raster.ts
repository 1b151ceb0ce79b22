/**
 * The in-memory picture the generator paints on: linear values in [0, 1],
 * interleaved channels (1 = gray, 3 = RGB), the layout sharp's raw input uses.
 */
export type Channels = 1 | 3;

export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  readonly data: Float32Array;
}

export function createRaster(width: number, height: number, channels: Channels): Raster {
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

export function cloneRaster(r: Raster): Raster {
  return { width: r.width, height: r.height, channels: r.channels, data: new Float32Array(r.data) };
}

/** A single-channel float map (alpha, coverage, height) the size of an image. */
export interface FloatMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function createMap(width: number, height: number): FloatMap {
  return { width, height, data: new Float32Array(width * height) };
}

/** An 8-bit image ready for PNG encoding. */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: Channels;
  readonly data: Uint8Array;
}
