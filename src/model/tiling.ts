/**
 * Served tiling: a class whose frames are many times the backbone's input
 * (the realistic suite's 1024-px sheet, its hairlines one pixel wide) is
 * scored twice, whole by the model and in k×k tiles by a bundle fitted on
 * its training frames' tiles, each tile nearer its native resolution. The
 * two scores are combined in the units of the class's own threshold, so
 * that threshold still judges the frame; the two maps pixel by pixel, each in
 * its normals' pixel quantile:
 *   score = max(whole score, class threshold / frame threshold × largest tile score)
 *   map   = max(whole map, whole unit / tile unit × stitched tile map)   (at the frame's size)
 * A class whose tiles sharpen the map without a measured gain in telling
 * defective frames from good ones is served "map only": the whole frame's
 * score alone, so its verdicts are the untiled model's. On the realistic
 * sheet (2 held-out frames, no image AUROC to measure) the tiles in the
 * score took image AUROC 50.5 → 37.5; map only keeps 50.5 and the map's
 * gain (AUPRO 51.7 → 63.1).
 * The frame threshold is the quantile of the largest tile score over the
 * class's held-out frames (never below the tile model's own threshold for
 * one tile), so a frame's k² tiles do not each get a chance to raise a false
 * alarm at the per-tile rate. Measured against the served unified model
 * (bench:tiling): sheet 4×4 AUPRO 51.7 → 62.0, cloth 2×2 pixel AUROC 79.7 → 82.4.
 *
 * The tile bundle's files live inside this bundle, named `tiles.<class>.<file>`;
 * a file identical to the parent's (the backbone) is not stored twice.
 */
import type { BundleManifest, LoadedBundle } from "./bundle.js";
import { sha256 } from "./bundle.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface TiledClass {
  /** Tiles per side (image/tiles.ts tileRects) and their overlap, a fraction of a tile. */
  readonly grid: number;
  readonly overlap: number;
  /** The largest tile score of a normal frame the class's threshold stands for, in the tile bundle's served units. */
  readonly frameThreshold: number;
  /** How many frames it was measured on (held-out ones, then bank frames scored with their own rows left out). */
  readonly frames: number;
  /**
   * The unit each map is counted in where the two are combined: the quantile (PIXEL_UNIT_QUANTILE) of the class's
   * held-out frames' pixels, of the whole model's served map and of the stitched tile maps. The tile map is brought to
   * the whole map's units by whole / tiles. Absent: by the scores' factor (class threshold / frameThreshold).
   */
  readonly pixelUnits?: { readonly whole: number; readonly tiles: number };
  /**
   * The tiles join only the heatmap; the frame's score (and so its verdict) is the whole frame's. Absent: false (bundles
   * fitted before the choice existed).
   */
  readonly mapOnly?: boolean;
  /** What pseudo-validation measured whole and with the tiles (pipeline/tiling/tile-choice.ts), where it ran. */
  readonly pseudo?: TileChoiceRecord;
  /** The tile bundle, fitted on the class's training frames cut into tiles; its files are the parent's (tileFileName). */
  readonly manifest: BundleManifest;
}

export interface Tiling {
  readonly classes: Readonly<Record<string, TiledClass>>;
  /** The classes config.tiling named whose tiles pseudo-validation did not keep, with what it measured. */
  readonly dropped?: Readonly<Record<string, TileChoiceRecord>>;
}

/** Figures of one way of scoring (0–1; null where undefined). */
export interface TileFigures {
  readonly imageAuroc: number | null;
  readonly pixelAuroc: number | null;
  readonly aupro: number | null;
}

/** Pseudo-validation of a class's tiles: its synthesized anomalies and normals scored whole and with the tiles. */
export interface TileChoiceRecord {
  readonly normals: number;
  /** Synthesized anomalies in all, of which `hairlines` thin faint lines (image/pseudo/hairline.ts). */
  readonly anomalies: number;
  readonly hairlines: number;
  readonly whole: TileFigures;
  readonly tiled: TileFigures;
  readonly kept: boolean;
  /** Kept for the map alone: no measured image-level gain (chooseTiles). Absent in records of older fits. */
  readonly mapOnly?: boolean;
}

/** A gain must reach this (0–1) for the tiles to be kept: in pixel AUROC or AUPRO for the map, in image AUROC for the score ... */
export const TILE_GAIN = 0.01;
/** ... and neither pixel AUROC nor AUPRO may fall by more than this. */
export const TILE_TOLERANCE = 0.005;

/**
 * What pseudo-validation makes of a class's tiles (undefined figures count as no change). They are kept for a gain in
 * the map (pixel AUROC or AUPRO) or in the score (image AUROC), the map losing neither by more than TILE_TOLERANCE.
 * They join the score only for a measured image AUROC gain: a frame has k² tiles, each a chance to outrank a faint
 * defect or raise a false alarm, which the map alone does not risk (an OK frame's map is capped at its score).
 */
export function chooseTiles(whole: TileFigures, tiled: TileFigures): { kept: boolean; mapOnly: boolean } {
  const delta = (k: keyof TileFigures) => (whole[k] !== null && tiled[k] !== null ? tiled[k]! - whole[k]! : null);
  const gains = (k: keyof TileFigures) => (delta(k) ?? 0) >= TILE_GAIN;
  const mapSafe = (delta("pixelAuroc") ?? 0) >= -TILE_TOLERANCE && (delta("aupro") ?? 0) >= -TILE_TOLERANCE;
  const inScore = gains("imageAuroc");
  return { kept: mapSafe && (gains("pixelAuroc") || gains("aupro") || inScore), mapOnly: !inScore };
}

/** The name a tile bundle's file has inside its parent. */
export function tileFileName(cls: string, name: string): string {
  return `tiles.${cls}.${name}`;
}

/**
 * The files of tile bundle `manifest` as its parent stores them: each under tileFileName, except those identical to
 * the parent's file of the same name, which are left to it.
 */
export function tileFilesInParent(cls: string, files: Readonly<Record<string, Uint8Array>>, manifest: BundleManifest, parentFiles: Readonly<Record<string, Uint8Array>>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, data] of Object.entries(files)) {
    const own = parentFiles[name];
    if (own && sha256(own) === manifest.files[name]) continue;
    out[tileFileName(cls, name)] = data;
  }
  return out;
}

/** Class `cls`'s tile bundle as a LoadedBundle over its parent's files (checked against the tile manifest's hashes). */
export function tileBundleOf(parent: LoadedBundle, cls: string): LoadedBundle {
  const t = parent.manifest.tiling?.classes[cls];
  if (!t) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${parent.dir}: class ${cls} is not tiled`);
  const dir = `${parent.dir} (tiles of ${cls})`;
  const own = parent.manifest.files;
  return {
    dir,
    manifest: t.manifest,
    file(name: string): Uint8Array {
      const hash = t.manifest.files[name];
      if (hash === undefined) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: manifest has no file ${name}`);
      const stored = tileFileName(cls, name);
      // The parent verified its files against its own manifest; a file shared with it must be the one the tile manifest names.
      if (own[stored] === hash) return parent.file(stored);
      if (own[name] === hash) return parent.file(name);
      throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: file ${name} is missing or not the one its manifest names`);
    },
  };
}

/** What is wrong with a bundle's tiling record, or undefined. */
export function tilingProblem(tiling: Tiling): string | undefined {
  for (const [cls, t] of Object.entries(tiling.classes)) {
    if (!(Number.isInteger(t.grid) && t.grid >= 1 && t.grid <= 16)) return `tiling.classes.${cls}.grid ${String(t.grid)} is not an integer in 1..16`;
    if (!(typeof t.overlap === "number" && t.overlap >= 0 && t.overlap <= 0.5)) return `tiling.classes.${cls}.overlap ${String(t.overlap)} is not in [0, 0.5]`;
    if (!(typeof t.frameThreshold === "number" && Number.isFinite(t.frameThreshold) && t.frameThreshold > 0)) return `tiling.classes.${cls}.frameThreshold ${String(t.frameThreshold)} is not a positive number`;
    if (t.mapOnly !== undefined && typeof t.mapOnly !== "boolean") return `tiling.classes.${cls}.mapOnly ${String(t.mapOnly)} is not a boolean`;
    if (t.pixelUnits !== undefined && !(t.pixelUnits.whole > 0 && t.pixelUnits.tiles > 0 && Number.isFinite(t.pixelUnits.whole) && Number.isFinite(t.pixelUnits.tiles))) return `tiling.classes.${cls}.pixelUnits are not two positive numbers`;
    if (typeof t.manifest !== "object" || t.manifest === null || typeof t.manifest.files !== "object") return `tiling.classes.${cls}.manifest is not a bundle manifest`;
  }
  return undefined;
}

/**
 * A frame scored whole and in tiles, combined in the units of the class's threshold (see the file's comment):
 * `whole` and `tiles` are maps of the same size (the frame's), `factor` the class threshold over the frame threshold.
 */
export function combineTiles(whole: { readonly map: Float32Array; readonly score: number }, tiles: { readonly map: Float32Array; readonly score: number }, factors: { readonly score: number; readonly map: number }): { map: Float32Array; score: number } {
  if (whole.map.length !== tiles.map.length) throw new RangeError(`a whole map of ${whole.map.length} values and a tile map of ${tiles.map.length}`);
  for (const [what, f] of Object.entries(factors)) if (!(Number.isFinite(f) && f > 0)) throw new RangeError(`tile ${what} factor ${f} is not a positive number`);
  const map = new Float32Array(whole.map.length);
  for (let i = 0; i < map.length; i++) map[i] = Math.max(whole.map[i]!, factors.map * tiles.map[i]!);
  return { map, score: Math.max(whole.score, factors.score * tiles.score) };
}

/** The factors combineTiles brings a tiled class's tile score and map into the whole frame's units by. */
export function tileFactors(t: Pick<TiledClass, "frameThreshold" | "pixelUnits">, classThreshold: number): { score: number; map: number } {
  const score = classThreshold / t.frameThreshold;
  return { score, map: t.pixelUnits ? t.pixelUnits.whole / t.pixelUnits.tiles : score };
}
