/**
 * Where a W×H frame lands in the backbone's S×S input. `stretch` (what
 * every bundle before the option did) scales each axis on its own, so a 2:1
 * frame's features are squeezed 2:1. `letterbox` keeps the aspect ratio:
 * the frame is scaled by S / max(W, H), centred, and the rest is a border
 * (gray, or the frame continued: Border below), so one class of varied
 * sizes and shapes shows its texture at one scale (issue 10's non-square
 * tiles), at the cost of the input area the border takes. `balanced` goes halfway between them in log scale: the long
 * side spans S and the short side is stretched by √(long / short), so a 1:2
 * frame fills 1:√2 of the square and a 1:4 strip half of it, where
 * letterbox gives them a half and a quarter. The same placement maps masks
 * into the input and the anomaly map back out (pipeline/bundle-detector.ts).
 * Pure.
 */
export const ASPECTS = ["stretch", "letterbox", "balanced"] as const;
export type Aspect = (typeof ASPECTS)[number];

/** Pixel value of the letterbox border (all three channels): mid-gray, as the backbone's shape probe. */
export const LETTERBOX_GRAY = 128;

/**
 * What fills the input around a frame that does not cover it (letterbox,
 * balanced): `gray` (every bundle before the option), `edge` (the frame's
 * outermost pixels repeated outwards) or `mirror` (the frame reflected at
 * its edges). With a gray border the cells at a frame's edge see a seam
 * between gray and the frame that moves within the cell with each frame's
 * size, so their features vary from frame to frame; on tiles of many sizes
 * that noise sat above small defects (issue 10). Mirrored or repeated, the
 * border continues the frame, and those cells look like the inside.
 * Stretched frames have no border. The border's cells are never scored
 * (frameCells).
 */
export const BORDERS = ["gray", "edge", "mirror"] as const;
export type Border = (typeof BORDERS)[number];

/** How a frame is fitted into the S×S input: its aspect rule and what fills the rest. */
export interface FrameFit {
  readonly aspect: Aspect;
  readonly border: Border;
}

/** What bundles before `aspect` and `border` did: stretched (so no border). */
export const LEGACY_FIT: FrameFit = { aspect: "stretch", border: "gray" };

/** A bundle's fit from its manifest's backbone block: absent fields are what bundles before them did. */
export function frameFitOf(backbone: { readonly aspect?: Aspect; readonly border?: Border }): FrameFit {
  return { aspect: backbone.aspect ?? LEGACY_FIT.aspect, border: backbone.border ?? LEGACY_FIT.border };
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
  const long = Math.max(width, height);
  // The short axis's extra stretch: none for letterbox, √(long / short) for balanced.
  const stretch = aspect === "balanced" ? Math.sqrt(long / Math.min(width, height)) : 1;
  const scale = size / long;
  const w = Math.max(1, Math.min(size, Math.round(width * scale * (width < height ? stretch : 1))));
  const h = Math.max(1, Math.min(size, Math.round(height * scale * (height < width ? stretch : 1))));
  return { x: Math.floor((size - w) / 2), y: Math.floor((size - h) / 2), w, h };
}

/** Cells [x0, x1) × [y0, y1) of an h×w feature grid. */
export interface GridRect {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/**
 * The cells of a w×h grid over the S×S input whose centres fall inside the
 * frame's placement: the cells that show the frame and not the letterbox
 * border. Undefined when the frame fills the input (every cell shows it).
 * At least one cell per axis, so a sliver of a frame still has cells.
 */
export function frameCells(p: Placement, size: number, w: number, h: number): GridRect | undefined {
  if (p.x === 0 && p.y === 0 && p.w === size && p.h === size) return undefined;
  const axis = (start: number, extent: number, cells: number): [number, number] => {
    // Cell i's centre is at (i + ½)·size/cells; inside when start ≤ centre < start + extent.
    const lo = Math.max(0, Math.ceil((start * cells) / size - 0.5));
    const hi = Math.min(cells, Math.ceil(((start + extent) * cells) / size - 0.5));
    if (hi > lo) return [lo, hi];
    const mid = Math.min(cells - 1, Math.max(0, Math.floor(((start + extent / 2) * cells) / size)));
    return [mid, mid + 1];
  };
  const [x0, x1] = axis(p.x, p.w, w);
  const [y0, y1] = axis(p.y, p.h, h);
  return { x0, y0, x1, y1 };
}

/**
 * `compute` memoized per frame placement: a class's or a line's frames come in a few sizes, so what depends only on
 * the placement (edge distances, a profile brought to it) is made once per size. At most `limit` placements are kept;
 * past that the memo starts again, so a stream of ever new sizes cannot grow it without end.
 */
export function perPlacement<T>(compute: (p: Placement) => T, limit = 64): (p: Placement) => T {
  const cache = new Map<string, T>();
  return (p) => {
    const key = `${p.x},${p.y},${p.w},${p.h}`;
    let v = cache.get(key);
    if (v === undefined) {
      if (cache.size >= limit) cache.clear();
      cache.set(key, (v = compute(p)));
    }
    return v;
  };
}

/** A W×H mask (non-zero = anomalous) placed into the S×S input like its image, nearest neighbour so it stays binary; 0 on the border. */
export function maskToInput(mask: Uint8Array, image: { readonly width: number; readonly height: number }, size: number, aspect: Aspect = "stretch"): Uint8Array {
  const p = placement(image.width, image.height, size, aspect);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < p.h; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / p.h));
    for (let x = 0; x < p.w; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / p.w));
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
