/**
 * The mask families of the pseudo-anomaly generator (paper 3.4: "masks of
 * different shapes and sizes"). Each family is a pure function of a seeded
 * stream and a target area in pixels, returning a shape in its own frame
 * (origin at its centre, pixel units) that `rasterize` places and turns:
 *   rectangle  — a box of aspect 1–4 (CutPaste's patch)
 *   ellipse    — an oval of aspect 1–4
 *   polygon    — a random simple polygon of 3–10 vertices (chips, dents)
 *   star       — alternating outer/inner radii (cracks radiating from a point)
 *   scratch    — a thick, gently curving polyline (hairline scratches)
 *   blob       — thresholded smooth noise inside a soft disc (DRAEM-style
 *                stains and contamination)
 * Areas are met exactly for the area-formula shapes and to within a few
 * percent (boundary pixels) for blob; a scratch is capped in length, so a
 * large target area gives a wide scratch only up to a limit and the shape
 * comes out smaller than asked (callers measure the rasterized area).
 */
import { fbm } from "../synth/noise.js";
import type { Rng } from "../synth/rng.js";

export interface Shape {
  /** Bounding radius about the origin: nothing outside it is inside. */
  readonly radius: number;
  inside(u: number, v: number): boolean;
}

export const MASK_FAMILIES = ["rectangle", "ellipse", "polygon", "star", "scratch", "blob"] as const;
export type MaskFamily = (typeof MASK_FAMILIES)[number];

/** Context a family needs beyond the stream: the image's shorter side bounds a scratch's length. */
export interface ShapeContext {
  readonly area: number;
  readonly minSide: number;
}

export function rectangleShape(rng: Rng, { area }: ShapeContext): Shape {
  const aspect = rng.logRange(1, 4);
  const hw = Math.sqrt(area * aspect) / 2;
  const hh = area / (4 * hw);
  return { radius: Math.hypot(hw, hh), inside: (u, v) => Math.abs(u) < hw && Math.abs(v) < hh };
}

export function ellipseShape(rng: Rng, { area }: ShapeContext): Shape {
  const aspect = rng.logRange(1, 4);
  const a = Math.sqrt((area * aspect) / Math.PI);
  const b = area / (Math.PI * a);
  return { radius: Math.max(a, b), inside: (u, v) => (u / a) ** 2 + (v / b) ** 2 < 1 };
}

/** Even-odd point-in-polygon over flat [x0, y0, x1, y1, …] vertices. */
export function insidePolygon(pts: readonly number[], u: number, v: number): boolean {
  let inside = false;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = pts[2 * i]!;
    const yi = pts[2 * i + 1]!;
    const xj = pts[2 * j]!;
    const yj = pts[2 * j + 1]!;
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Shoelace area of a simple polygon. */
export function polygonArea(pts: readonly number[]): number {
  let s = 0;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) s += pts[2 * j]! * pts[2 * i + 1]! - pts[2 * i]! * pts[2 * j + 1]!;
  return Math.abs(s) / 2;
}

/** A star-shaped (hence simple) polygon from angles in increasing order and radii, scaled to `area`. */
function radialPolygon(angles: readonly number[], radii: readonly number[], area: number): Shape {
  const pts: number[] = [];
  for (let i = 0; i < angles.length; i++) pts.push(radii[i]! * Math.cos(angles[i]!), radii[i]! * Math.sin(angles[i]!));
  const scale = Math.sqrt(area / polygonArea(pts));
  const scaled = pts.map((p) => p * scale);
  const radius = Math.max(...radii) * scale;
  return { radius, inside: (u, v) => insidePolygon(scaled, u, v) };
}

export function polygonShape(rng: Rng, { area }: ShapeContext): Shape {
  const n = rng.int(3, 10);
  // Evenly spaced angles with jitter keep the polygon from collapsing to a sliver.
  const angles: number[] = [];
  const radii: number[] = [];
  const phase = rng.range(0, 2 * Math.PI);
  for (let i = 0; i < n; i++) {
    angles.push(phase + ((i + rng.range(-0.35, 0.35)) * 2 * Math.PI) / n);
    radii.push(rng.range(0.45, 1));
  }
  return radialPolygon(angles, radii, area);
}

export function starShape(rng: Rng, { area }: ShapeContext): Shape {
  const points = rng.int(4, 7);
  const inner = rng.range(0.3, 0.6);
  const angles: number[] = [];
  const radii: number[] = [];
  for (let i = 0; i < 2 * points; i++) {
    angles.push((i * Math.PI) / points + rng.range(-0.15, 0.15));
    radii.push(i % 2 === 0 ? rng.range(0.75, 1) : inner * rng.range(0.8, 1.2));
  }
  return radialPolygon(angles, radii, area);
}

/** Squared distance from (u, v) to the segment (ax, ay)–(bx, by). */
function segmentDistance2(u: number, v: number, ax: number, ay: number, bx: number, by: number): number {
  const ex = bx - ax;
  const ey = by - ay;
  const len2 = ex * ex + ey * ey;
  const t = len2 === 0 ? 0 : Math.min(1, Math.max(0, ((u - ax) * ex + (v - ay) * ey) / len2));
  const dx = u - (ax + t * ex);
  const dy = v - (ay + t * ey);
  return dx * dx + dy * dy;
}

/**
 * A scratch: a polyline whose heading drifts a little at each of its 12
 * segments, swept by a disc of the chosen width. Length runs from a tenth to
 * 0.7 of the shorter side (shorter when the area is too small for that at
 * 1.5 px wide); the width is what the area asks for, kept between 1.5 px and
 * 4 % of the shorter side so it stays a line, not a bar.
 */
export function scratchShape(rng: Rng, { area, minSide }: ShapeContext): Shape {
  const minWidth = 1.5;
  // A small target shortens the scratch rather than widening it past the asked area.
  const length = Math.min(rng.range(0.1, 0.7) * minSide, area / minWidth);
  const width = Math.min(Math.max(area / length, minWidth), Math.max(minWidth, 0.04 * minSide));
  const segments = 12;
  const step = length / segments;
  const bend = rng.range(0, 0.25);
  const pts: number[] = [0, 0];
  let heading = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < segments; i++) {
    heading += bend * rng.normal();
    x += step * Math.cos(heading);
    y += step * Math.sin(heading);
    pts.push(x, y);
  }
  // Centre on the bounding box so the placement point is the scratch's middle.
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    minX = Math.min(minX, pts[i]!);
    maxX = Math.max(maxX, pts[i]!);
    minY = Math.min(minY, pts[i + 1]!);
    maxY = Math.max(maxY, pts[i + 1]!);
  }
  const ox = (minX + maxX) / 2;
  const oy = (minY + maxY) / 2;
  for (let i = 0; i < pts.length; i += 2) {
    pts[i]! -= ox;
    pts[i + 1]! -= oy;
  }
  const half2 = (width / 2) ** 2;
  return {
    radius: Math.hypot(maxX - minX, maxY - minY) / 2 + width,
    inside: (u, v) => {
      for (let i = 0; i + 3 < pts.length; i += 2) {
        if (segmentDistance2(u, v, pts[i]!, pts[i + 1]!, pts[i + 2]!, pts[i + 3]!) <= half2) return true;
      }
      return false;
    },
  };
}

/**
 * A blob: smooth noise minus a radial fall-off, thresholded (DRAEM
 * thresholds Perlin noise over the whole image; the fall-off keeps one blob
 * compact so its size can be chosen). The threshold is the value that
 * leaves `area` grid points of the window inside, so the area is met to
 * within boundary pixels.
 */
export function blobShape(rng: Rng, { area }: ShapeContext): Shape {
  const radius = Math.sqrt((2.5 * area) / Math.PI) + 1;
  const seed = rng.seed() | 0;
  const scale = radius / rng.range(1.2, 2.5);
  const field = (u: number, v: number) => fbm(u / scale, v / scale, seed, 3) - 1.6 * ((u * u + v * v) / (radius * radius));
  const values: number[] = [];
  const r = Math.ceil(radius);
  for (let v = -r; v < r; v++) {
    for (let u = -r; u < r; u++) {
      if (u * u + v * v < radius * radius) values.push(field(u + 0.5, v + 0.5));
    }
  }
  values.sort((a, b) => b - a);
  const threshold = values[Math.min(values.length - 1, Math.max(0, Math.round(area) - 1))]!;
  return { radius, inside: (u, v) => u * u + v * v < radius * radius && field(u, v) >= threshold };
}

export const FAMILY_SHAPES: Record<MaskFamily, (rng: Rng, ctx: ShapeContext) => Shape> = {
  rectangle: rectangleShape,
  ellipse: ellipseShape,
  polygon: polygonShape,
  star: starShape,
  scratch: scratchShape,
  blob: blobShape,
};
