/**
 * Whether a part brought from another frame would stand out among the
 * target frame's parts of its kind. A swap is an anomaly only when it
 * breaks the frame's consistency (a brass nut among steel ones). Two normal
 * frames of the same kind hold like parts, and a swap between them changes
 * pixels (the part turns, shifts, catches other light) but not the frame's
 * consistency: it is a normal frame labelled anomalous. On the realistic
 * suite's kit, 13 of 20 swaps were of that kind (11 of 20 at another set
 * seed), and they drowned what the context weight is chosen on: of the
 * swaps that stand out, lafite mode finds 77–81 % without context and all
 * at W 1.
 *
 * A part's appearance is its colour against its own ground, so the plate's
 * colour and light, which vary from frame to frame, cancel.
 */
import type { RgbImage } from "../decode.js";
import { MASK_THRESHOLD } from "../synth/sample.js";
import { ringWidth } from "./logical.js";

/** Mean RGB inside a square's inscribed disc (what a swap brings, as discMask draws it) minus the mean of the plain ring around the square (logical.ts ringWidth). */
export type PartAppearance = readonly [number, number, number];

/** How many times the spread of the replaced part's kind a part's appearance must differ by to stand out. */
const SPREAD_FACTOR = 2;

/**
 * A part's appearance. The ground is read on the ring findParts found
 * plain around the square, clipped to the image, not on the square's
 * corners: a part a few pixels off centre would reach into those.
 */
export function partAppearance(image: RgbImage, x: number, y: number, side: number): PartAppearance {
  const { width, height, rgb } = image;
  if (x < 0 || y < 0 || x + side > width || y + side > height || side < 1) throw new RangeError(`square (${x}, ${y}) of side ${side} is not inside the ${width}×${height} image`);
  const disc = [0, 0, 0];
  const ground = [0, 0, 0];
  let nDisc = 0;
  let nGround = 0;
  const r = side / 2;
  const ring = ringWidth(side);
  for (let v = -ring; v < side + ring; v++) {
    for (let u = -ring; u < side + ring; u++) {
      const px = x + u;
      const py = y + v;
      if (px < 0 || py < 0 || px >= width || py >= height) continue;
      const inSquare = u >= 0 && v >= 0 && u < side && v < side;
      if (inSquare && (u + 0.5 - r) ** 2 + (v + 0.5 - r) ** 2 > r * r) continue;
      const sum = inSquare ? disc : ground;
      const o = 3 * (py * width + px);
      for (let k = 0; k < 3; k++) sum[k]! += rgb[o + k]!;
      if (inSquare) nDisc++;
      else nGround++;
    }
  }
  if (nGround === 0) throw new RangeError(`square (${x}, ${y}) of side ${side} leaves no ring inside the ${width}×${height} image`);
  const mean = (k: number) => disc[k]! / nDisc - ground[k]! / nGround;
  return [mean(0), mean(1), mean(2)];
}

/** The largest difference of one channel: as visibleFraction compares pixels, so one threshold reads both. */
export function appearanceGap(a: PartAppearance, b: PartAppearance): number {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}

interface Square {
  readonly x: number;
  readonly y: number;
  readonly side: number;
}

function overlap(a: Square, b: Square): boolean {
  const side = Math.max(a.side, b.side);
  return Math.abs(a.x - b.x) < side && Math.abs(a.y - b.y) < side;
}

/**
 * Would a part of appearance `brought`, put at `place` of `target`, stand
 * out among the replaced part's kind: that part and the target's other
 * `parts` that look like it (within MASK_THRESHOLD, the level at which a
 * pixel counts as visibly changed; the squares that overlap `place` are the
 * replaced part itself, found at several offsets)? Its gap to the nearest of
 * them must reach MASK_THRESHOLD and SPREAD_FACTOR times the kind's own
 * spread (each member's gap to its nearest member elsewhere, the largest).
 * Parts of other kinds (a cap beside a label) say nothing of whether the
 * replaced one fits; a part alone of its kind must only differ from it.
 */
export function standsOut(target: RgbImage, parts: readonly Square[], place: Square, brought: PartAppearance): boolean {
  const replaced = partAppearance(target, place.x, place.y, place.side);
  const alike = parts
    .filter((p) => !overlap(p, place))
    .map((p) => ({ square: p, look: partAppearance(target, p.x, p.y, p.side) }))
    .filter((m) => appearanceGap(m.look, replaced) < MASK_THRESHOLD);
  const kind = [{ square: place, look: replaced }, ...alike];
  const gap = Math.min(...kind.map((m) => appearanceGap(m.look, brought)));
  let spread = 0;
  for (const a of kind) {
    const apart = kind.filter((b) => !overlap(a.square, b.square));
    if (apart.length > 0) spread = Math.max(spread, Math.min(...apart.map((b) => appearanceGap(a.look, b.look))));
  }
  return gap >= MASK_THRESHOLD && gap >= SPREAD_FACTOR * spread;
}
