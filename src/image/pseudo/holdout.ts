/**
 * The normals of a pseudo-validation set that is fair to a fitted bundle:
 * only the training images the bundle held out of its memory bank
 * (manifest provenance.holdoutFiles, paths relative to the data set, the
 * class being the first folder). Training images themselves are in the bank,
 * so as negatives they would score near zero and flatter every setting.
 */
import path from "node:path";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import type { PseudoClass } from "./samples.js";
import { parseTileRef, tileRefsOf } from "../tiles.js";

/** A held-out file's path (relative to the data set) as its folders and name: the first is its class. */
export function holdoutFileParts(file: string): string[] {
  return file.split(/[\\/]/);
}

/**
 * A class's bank images as its bundle was fitted on them: its train/good `files`, or, for a class whose held-out
 * images are tiles (a tile bundle's, model/tiling.ts), those files cut into the same tiles (tile references).
 */
export function bankImagesOf(holdoutFiles: readonly string[], cls: string, files: readonly string[]): string[] {
  const held = holdoutFiles.find((f) => holdoutFileParts(f)[0] === cls);
  const cut = held !== undefined ? parseTileRef(held) : undefined;
  return cut ? files.flatMap((f) => tileRefsOf(f, cut.k, cut.overlap)) : [...files];
}

export function holdoutClasses(holdoutFiles: readonly string[] | undefined, data: string): PseudoClass[] {
  if (!holdoutFiles || holdoutFiles.length === 0) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, "the bundle records no held-out training images (fitted with threshold.holdout 0, or by an older lafited); refit it or build the set from all train/good images");
  }
  const byClass = new Map<string, string[]>();
  for (const file of holdoutFiles) {
    const parts = holdoutFileParts(file);
    if (parts.length < 2 || parts.includes("..") || path.isAbsolute(file)) throw new LafiteError(ErrorCode.BAD_BUNDLE, `held-out file '${file}' is not a path inside the data set`);
    const list = byClass.get(parts[0]!) ?? [];
    list.push(path.join(data, ...parts));
    byClass.set(parts[0]!, list);
  }
  return [...byClass].map(([name, images]) => ({ name, images }));
}

/** Class `cls`'s held-out frames (holdoutClasses' paths under `data`); none where the bundle records none of them. */
export function holdoutFramesOf(holdoutFiles: readonly string[] | undefined, data: string, cls: string): readonly string[] {
  if (!holdoutFiles || holdoutFiles.length === 0) return [];
  return holdoutClasses(holdoutFiles, data).find((c) => c.name === cls)?.images ?? [];
}
