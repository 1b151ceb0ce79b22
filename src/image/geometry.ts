/**
 * Where a W×H frame lands in the backbone's S×S input. `stretch` (the
 * default, and what every bundle before this option did) scales each axis
 * on its own, so a 2:1 frame's features are squeezed 2:1. `letterbox` keeps
 * the aspect ratio: the frame is scaled by S / max(W, H), centred, and the
 * rest is a constant gray border, so one class of varied sizes and shapes
 * shows its texture at one scale (issue 10's non-square tiles), at the cost
 * of the input area the border takes. The same placement maps masks into
 * the input and the anomaly map back out (pipeline/bundle-detector.ts).
 * Pure.
 */
export const ASPECTS = ["stretch", "letterbox"] as const;
export type Aspect = (typeof ASPECTS)[number];

/** Pixel value of the letterbox border (all three channels): mid-gray, as the backbone's shape probe. */
export const LETTERBOX_GRAY = 128;

/** A rectangle of a frame, in frame pixels. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * The tiles a W×H frame is cut into so that no tile side exceeds `side`:
 * ceil(W / side) × ceil(H / side) of them, edges at round(i·W / n), row-major,
 * no overlap. Each tile then goes through the placement below as if it were a
 * frame, so a 1024-px frame keeps twice the detail a single 224-px input
 * allows (thin defects), and a 1:2 frame is cut into two squares instead of
 * being squeezed (issue 10). Without a side, one tile: the whole frame.
 */
export function tilesOf(width: number, height: number, side?: number): Rect[] {
  const nx = side ? Math.max(1, Math.ceil(width / side)) : 1;
  const ny = side ? Math.max(1, Math.ceil(height / side)) : 1;
  const edge = (i: number, n: number, len: number) => Math.round((i * len) / n);
  const out: Rect[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const x = edge(i, nx, width);
      const y = edge(j, ny, height);
      out.push({ x, y, w: edge(i + 1, nx, width) - x, h: edge(j + 1, ny, height) - y });
    }
  }
  return out;
}

/** How frames become backbone inputs: cut into tiles (when tileSide is set), each fitted into the S×S input by `aspect`. */
export interface Framing {
  readonly aspect: Aspect;
  /** Frames with a side longer than this are tiled (tilesOf); absent = never. */
  readonly tileSide?: number;
}

export interface Placement {
  /** The frame's rectangle in the S×S input, in input pixels. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function placement(width: number, height: number, size: number, aspect: Aspect): Placement {
  if (aspect === "stretch" || width === height) return { x: 0, y: 0, w: size, h: size };
  const scale = size / Math.max(width, height);
  const w = Math.max(1, Math.min(size, Math.round(width * scale)));
  const h = Math.max(1, Math.min(size, Math.round(height * scale)));
  return { x: Math.floor((size - w) / 2), y: Math.floor((size - h) / 2), w, h };
}

/**
 * A W×H mask (non-zero = anomalous) placed into the S×S input like its image
 * (or like the given tile of it), nearest neighbour so it stays binary; 0 on
 * the border.
 */
export function maskToInput(mask: Uint8Array, image: { readonly width: number; readonly height: number }, size: number, aspect: Aspect = "stretch", tile: Rect = { x: 0, y: 0, w: image.width, h: image.height }): Uint8Array {
  const p = placement(tile.w, tile.h, size, aspect);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < p.h; y++) {
    const sy = tile.y + Math.min(tile.h - 1, Math.floor(((y + 0.5) * tile.h) / p.h));
    for (let x = 0; x < p.w; x++) {
      const sx = tile.x + Math.min(tile.w - 1, Math.floor(((x + 0.5) * tile.w) / p.w));
      out[(p.y + y) * size + p.x + x] = mask[sy * image.width + sx] ? 1 : 0;
    }
  }
  return out;
}

/** The values of an S×S map (or mask) inside the placement, as a w×h one (the border cropped away). */
export function cropToPlacement<T extends Float32Array | Uint8Array>(map: T, size: number, p: Placement): T {
  if (p.w === size && p.h === size) return map;
  // Same element type as the input: a Float32Array or a Uint8Array of the cropped size.
  const out = (map instanceof Float32Array ? new Float32Array(p.w * p.h) : new Uint8Array(p.w * p.h)) as T;
  for (let y = 0; y < p.h; y++) out.set(map.subarray((p.y + y) * size + p.x, (p.y + y) * size + p.x + p.w), y * p.w);
  return out;
}
