/**
 * What a class of the realistic suite declares: its frames, its textures,
 * its normal renderer and its defect painters, and how many images of each
 * kind the full-size suite holds (--scale shrinks them).
 */
import type { CameraRanges } from "../camera.js";
import type { Channels, FloatMap, Raster } from "../raster.js";
import type { Rng } from "../rng.js";
import type { Scene } from "../scene.js";
import type { Texture, TextureName } from "./texture-source.js";

export type Textures = Readonly<Partial<Record<TextureName, Texture>>>;

export interface Painted {
  readonly image: Raster;
  /** Where the defect is, 0..1; the mask is alpha ≥ 0.5. */
  readonly alpha: FloatMap;
}

export interface RealisticClass {
  readonly name: string;
  /** The weak spot this class exercises, for the manifest and the usage text. */
  readonly exercises: string;
  readonly channels: Channels;
  readonly textures: readonly TextureName[];
  /** Full-scale counts. */
  readonly train: number;
  readonly testGood: number;
  readonly testPerDefect: number;
  readonly defects: readonly string[];
  readonly camera: CameraRanges;
  /** Largest defect area as a fraction of the frame (a redraw otherwise). */
  readonly maxDefectArea: number;
  /** Frame size of one image; classes with one size return it always. */
  size(rng: Rng): readonly [number, number];
  /** Size range for the manifest: [minW, maxW, minH, maxH]. */
  readonly sizeRange: readonly [number, number, number, number];
  render(rng: Rng, width: number, height: number, tex: Textures): Scene;
  paint(defect: string, rng: Rng, scene: Scene): Painted;
}

/** The texture a class declared, or a loud failure if the loader skipped it. */
export function need(tex: Textures, name: TextureName): Texture {
  const t = tex[name];
  if (!t) throw new RangeError(`texture '${name}' was not loaded`);
  return t;
}
