/**
 * Tiles of a frame many times the model's input size: a k×k grid of
 * rectangles that cover it, neighbours overlapping by a fraction of a tile,
 * so that each tile reaches the backbone at nearer its native resolution.
 * A tile's map comes back at the tile's size; `stitchMaps` puts the maps
 * back into the frame, averaging where tiles overlap.
 */
import type { RgbImage } from "./bmp.js";

export interface TileRect {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** One axis of `n` pixels cut into `k` spans, each overlapping the next by `overlap` of a span; the spans start at 0 and the last ends at n. */
function spans(n: number, k: number, overlap: number): { start: number; size: number }[] {
  // k spans of side t with (k−1) overlaps of o·t cover n: t·(k − (k−1)·o) = n.
  const side = n / (k - (k - 1) * overlap);
  const out: { start: number; size: number }[] = [];
  for (let i = 0; i < k; i++) {
    const from = i * side * (1 - overlap);
    const start = Math.round(from);
    const end = i === k - 1 ? n : Math.round(from + side);
    out.push({ start, size: end - start });
  }
  return out;
}

/** The k×k tiles of a width×height frame, row by row; `overlap` in [0, 0.5]. */
export function tileRects(width: number, height: number, k: number, overlap = 0): TileRect[] {
  if (!Number.isInteger(k) || k < 1) throw new Error(`tiles: k must be a positive integer, not ${k}`);
  if (!(overlap >= 0 && overlap <= 0.5)) throw new Error(`tiles: overlap must be in [0, 0.5], not ${overlap}`);
  if (width < k || height < k) throw new Error(`tiles: a ${width}×${height} frame cannot be cut into ${k}×${k} tiles`);
  const xs = spans(width, k, overlap);
  const ys = spans(height, k, overlap);
  return ys.flatMap((y) => xs.map((x) => ({ left: x.start, top: y.start, width: x.size, height: y.size })));
}

/** The pixels of `rect` as an image of their own. */
export function cropImage(image: RgbImage, rect: TileRect): RgbImage {
  const rgb = new Uint8Array(rect.width * rect.height * 3);
  for (let y = 0; y < rect.height; y++) {
    const from = ((rect.top + y) * image.width + rect.left) * 3;
    rgb.set(image.rgb.subarray(from, from + rect.width * 3), y * rect.width * 3);
  }
  return { width: rect.width, height: rect.height, rgb, gray: image.gray };
}

/** The tiles' maps (each rect.width × rect.height, row-major) as one width×height map; where tiles overlap, their mean. */
export function stitchMaps(width: number, height: number, tiles: readonly { rect: TileRect; map: Float32Array }[]): Float32Array {
  const sum = new Float64Array(width * height);
  const count = new Uint16Array(width * height);
  for (const { rect, map } of tiles) {
    if (map.length !== rect.width * rect.height) throw new Error(`tiles: a ${rect.width}×${rect.height} tile with a map of ${map.length} values`);
    for (let y = 0; y < rect.height; y++) {
      const row = (rect.top + y) * width + rect.left;
      for (let x = 0; x < rect.width; x++) {
        sum[row + x]! += map[y * rect.width + x]!;
        count[row + x]!++;
      }
    }
  }
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    if (count[i] === 0) throw new Error(`tiles: pixel ${i % width},${Math.floor(i / width)} is in no tile`);
    out[i] = sum[i]! / count[i]!;
  }
  return out;
}

/**
 * One tile of an image file, named as a path: `<file>::tile(k,index,overlap)`, the tile `index` (row by row) of
 * the file's k×k tiles. A tiled class's training tiles are listed this way wherever a file path goes (fit's image
 * list, a bundle's held-out files), so every reader of those lists reads a tile as it reads a file (readImageFile),
 * and nothing is written to disk.
 */
export interface TileRef {
  readonly file: string;
  readonly k: number;
  readonly index: number;
  readonly overlap: number;
}

const TILE_REF = /^(.*)::tile\((\d+),(\d+),([0-9.]+)\)$/;

export function tileRefPath(ref: TileRef): string {
  return `${ref.file}::tile(${ref.k},${ref.index},${ref.overlap})`;
}

/** The tile a path names, or undefined for a plain file's path. */
export function parseTileRef(path: string): TileRef | undefined {
  const m = TILE_REF.exec(path);
  if (!m) return undefined;
  const ref = { file: m[1]!, k: Number(m[2]), index: Number(m[3]), overlap: Number(m[4]) };
  if (ref.k < 1 || ref.index >= ref.k * ref.k || !(ref.overlap >= 0 && ref.overlap <= 0.5)) throw new Error(`${path}: no such tile (k ${ref.k}, index ${ref.index}, overlap ${ref.overlap})`);
  return ref;
}

/** The k×k tile references of a file, row by row. */
export function tileRefsOf(file: string, k: number, overlap: number): string[] {
  return Array.from({ length: k * k }, (_, index) => tileRefPath({ file, k, index, overlap }));
}
