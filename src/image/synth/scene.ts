/**
 * What a product renderer hands to the defect painter: the clean scene plus
 * the facts a defect needs to land somewhere plausible.
 */
import type { FloatMap, Raster } from "./raster.js";

export interface Scene {
  readonly image: Raster;
  /** Where surface defects may be painted, 0..1 (all ones for a texture, the part's body for an object). */
  readonly support: FloatMap;
  /** The scene without the part: what shows where a piece is missing. Absent for textures, where a hole is dark. */
  readonly behind?: Raster;
  /** Points on the part's outer contour, where a chunk can break off. */
  readonly outline?: ReadonlyArray<readonly [number, number]>;
}
