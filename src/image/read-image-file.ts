/**
 * An image file read and decoded, or one tile of it when the path is a tile
 * reference (tiles.ts): the one reader of training and held-out lists, which
 * hold tiles of a tiled class beside plain files.
 */
import { readFile } from "node:fs/promises";
import { decodeEncoded, type RgbImage } from "./decode.js";
import { cropImage, parseTileRef, tileRects } from "./tiles.js";

export interface ReadImage {
  /** The file's bytes (for a tile, its whole file's): what provenance hashes. */
  readonly bytes: Uint8Array;
  readonly image: RgbImage;
}

export async function readImageFile(path: string): Promise<ReadImage> {
  const ref = parseTileRef(path);
  const bytes = await readFile(ref ? ref.file : path);
  const image = await decodeEncoded(bytes);
  if (!ref) return { bytes, image };
  return { bytes, image: cropImage(image, tileRects(image.width, image.height, ref.k, ref.overlap)[ref.index]!) };
}
