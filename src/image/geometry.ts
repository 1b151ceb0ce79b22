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
