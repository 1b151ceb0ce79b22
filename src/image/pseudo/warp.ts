/**
 * A warp anomaly: the target's own pixels moved, near one of its strong
 * edges, by a small smooth displacement: a rim pushed in or out (a dent, a
 * chip, a bulge) or turned a few degrees about a point on it (a bent or
 * wrongly ground edge). Nothing foreign comes in and no brightness changes,
 * only the shape.
 *
 * Why: pasted fragments and shaded stains are blobs of changed content
 * that the coarse stages see well, so on a part whose real defects are
 * small changes of shape at its edges (the factory suite's "glass parts
 * with small edge and angle defects", our glass plate's chips, broken
 * corners and wrong angles) the pseudo-validation set ranked the fine
 * detail bank last, while on the test set it localizes those edges best.
 *
 * The displacement D(p) is compact: zero beyond `radius` of the centre,
 * with a smooth (1 − d²/r²)² falloff, and at most about `radius`·0.45, so
 * the map p → p − D(p) stays one-to-one and the picture folds nowhere. A
 * dent moves the disk along the edge's normal; a twist turns it about the
 * centre. The output is the target sampled bilinearly at p − D(p).
 *
 * The ground truth is the pixels that visibly changed (by MASK_THRESHOLD
 * levels in some channel), grown by MASK_GROW pixels and kept inside the
 * disk: on a flat inside a warp changes nothing, and marking it would label
 * normal pixels anomalous. A draw whose changed pixels are too few to see
 * is drawn again; after MAX_ATTEMPTS the largest is kept (undefined when
 * none changed anything: a flat frame, which the caller then pastes into).
 */
import type { RgbImage } from "../decode.js";
import { MASK_THRESHOLD } from "../synth/sample.js";
import type { Rng } from "../synth/rng.js";
import { emptyMask, maskArea, type BinaryMask } from "./mask.js";
import type { Anomaly } from "./anomaly.js";
import { luma } from "./logical.js";

/** The warped disk's area as a fraction of the frame, drawn log-uniformly: from a pinhead chip to a bent stretch of rim. */
export const WARP_AREA = [0.001, 0.015] as const;
/** A dent's push, as a fraction of the disk's radius. */
export const DENT_PUSH = [0.15, 0.45] as const;
/** A twist's turn at the centre, in degrees. */
export const TWIST_DEGREES = [3, 12] as const;
/** Share of the frame's pixels, by gradient magnitude, that a warp may be centred on. */
export const EDGE_SHARE = 0.04;
/** Pixels the changed region grows by to make the ground truth (a real chip's mask covers its whole rim, not the changed pixels only). */
export const MASK_GROW = 2;
const MAX_ATTEMPTS = 12;
/** The fewest visibly changed pixels a kept draw needs, and their fewest share of the frame. */
const MIN_CHANGED = 12;
const MIN_CHANGED_SHARE = 0.0002;

export interface WarpInfo {
  readonly kind: "dent" | "twist";
  /** The centre, in pixels. */
  readonly x: number;
  readonly y: number;
  readonly radius: number;
  /** dent: the push at the centre in pixels (signed: + along the gradient, towards the brighter side); twist: the turn in degrees (signed). */
  readonly amount: number;
}

/** Sobel gradient of the luma (borders replicated). */
export function sobel(image: RgbImage): { gx: Float32Array; gy: Float32Array } {
  const { width: w, height: h } = image;
  const l = Float32Array.from({ length: w * h }, (_, i) => luma(image.rgb, i));
  const at = (x: number, y: number): number => l[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))]!;
  const gx = new Float32Array(w * h);
  const gy = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const a = at(x - 1, y - 1), b = at(x, y - 1), c = at(x + 1, y - 1);
      const d = at(x - 1, y), f = at(x + 1, y);
      const g = at(x - 1, y + 1), k = at(x, y + 1), m = at(x + 1, y + 1);
      gx[y * w + x] = (c + 2 * f + m - a - 2 * d - g) / 8;
      gy[y * w + x] = (g + 2 * k + m - a - 2 * b - c) / 8;
    }
  }
  return { gx, gy };
}

/** Indices of the EDGE_SHARE of pixels with the largest gradient magnitude (all pixels when the frame is flat). */
export function edgeCandidates(gx: Float32Array, gy: Float32Array): Int32Array {
  const n = gx.length;
  const mag = new Float32Array(n);
  for (let i = 0; i < n; i++) mag[i] = Math.hypot(gx[i]!, gy[i]!);
  const sorted = Float32Array.from(mag).sort();
  const cut = sorted[Math.max(0, Math.floor((1 - EDGE_SHARE) * n) - 1)]!;
  const picked: number[] = [];
  for (let i = 0; i < n; i++) if (mag[i]! > cut) picked.push(i);
  return picked.length > 0 ? Int32Array.from(picked) : Int32Array.from({ length: n }, (_, i) => i);
}

/** The displacement at offset (dx, dy) from the centre, or undefined outside the disk. */
export function displacement(info: Pick<WarpInfo, "kind" | "radius" | "amount">, normal: readonly [number, number], dx: number, dy: number): [number, number] | undefined {
  const d2 = (dx * dx + dy * dy) / (info.radius * info.radius);
  if (d2 >= 1) return undefined;
  const fall = (1 - d2) * (1 - d2);
  if (info.kind === "dent") return [info.amount * normal[0] * fall, info.amount * normal[1] * fall];
  const t = (info.amount * Math.PI) / 180;
  // (R(t) − I)·offset, faded out: the disk's middle turns by t, its rim not at all.
  return [((Math.cos(t) - 1) * dx - Math.sin(t) * dy) * fall, (Math.sin(t) * dx + (Math.cos(t) - 1) * dy) * fall];
}

/** The target with the disk warped (bilinear, clamped at the frame's border) and the pixels that changed by MASK_THRESHOLD levels in some channel. */
export function applyWarp(target: RgbImage, info: WarpInfo, normal: readonly [number, number]): { image: RgbImage; changed: BinaryMask } {
  const { width: w, height: h, rgb } = target;
  const out = Uint8Array.from(rgb);
  const changed = emptyMask(w, h);
  const r = info.radius;
  const x0 = Math.max(0, Math.floor(info.x - r));
  const x1 = Math.min(w - 1, Math.ceil(info.x + r));
  const y0 = Math.max(0, Math.floor(info.y - r));
  const y1 = Math.min(h - 1, Math.ceil(info.y + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = displacement(info, normal, x - info.x, y - info.y);
      if (!d) continue;
      const sx = Math.min(w - 1, Math.max(0, x - d[0]));
      const sy = Math.min(h - 1, Math.max(0, y - d[1]));
      const ix = Math.min(w - 2, Math.floor(sx));
      const iy = Math.min(h - 2, Math.floor(sy));
      const fx = w > 1 ? sx - ix : 0;
      const fy = h > 1 ? sy - iy : 0;
      let most = 0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number): number => rgb[3 * (Math.max(0, yy) * w + Math.max(0, xx)) + c]!;
        const v = (1 - fy) * ((1 - fx) * p(iy, ix) + fx * p(iy, ix + 1)) + fy * ((1 - fx) * p(iy + 1, ix) + fx * p(iy + 1, ix + 1));
        const o = 3 * (y * w + x) + c;
        out[o] = Math.round(v);
        most = Math.max(most, Math.abs(out[o]! - rgb[o]!));
      }
      if (most >= MASK_THRESHOLD) changed.data[y * w + x] = 1;
    }
  }
  return { image: { width: w, height: h, rgb: out, gray: target.gray }, changed };
}

/** `mask` grown by `by` pixels (square neighbourhood), kept inside the disk of `info`. */
export function growInDisk(mask: BinaryMask, by: number, info: Pick<WarpInfo, "x" | "y" | "radius">): BinaryMask {
  const { width: w, height: h } = mask;
  const out = emptyMask(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask.data[y * w + x] === 0) continue;
      for (let yy = Math.max(0, y - by); yy <= Math.min(h - 1, y + by); yy++) {
        for (let xx = Math.max(0, x - by); xx <= Math.min(w - 1, x + by); xx++) {
          const dx = xx - info.x;
          const dy = yy - info.y;
          if (dx * dx + dy * dy < info.radius * info.radius) out.data[yy * w + xx] = 1;
        }
      }
    }
  }
  return out;
}

/** Where a frame can be warped: its edge candidates, and the unit gradient at each (x, y pairs; [1, 0] where it is 0). */
export interface EdgeField {
  readonly centres: Int32Array;
  readonly normals: Float64Array;
}

/**
 * Each frame's EdgeField, kept while the frame is alive: a class with few
 * held-out normals draws many warps from each (the 1024-px sheet's 2 give
 * its 20), and the gradient of a 1024-px frame costs ten times the warp.
 * Only the candidates are kept, a twenty-fifth of the frame, not the gradient.
 */
const edgeFields = new WeakMap<RgbImage, EdgeField>();

/** The EdgeField of `image` (sobel, edgeCandidates), computed once per image object: its pixels must not change afterwards. */
export function edgeFieldOf(image: RgbImage): EdgeField {
  const kept = edgeFields.get(image);
  if (kept) return kept;
  const { gx, gy } = sobel(image);
  const centres = edgeCandidates(gx, gy);
  const normals = new Float64Array(2 * centres.length);
  centres.forEach((at, j) => {
    const g = Math.hypot(gx[at]!, gy[at]!);
    normals.set(g > 0 ? [gx[at]! / g, gy[at]! / g] : [1, 0], 2 * j);
  });
  const field = { centres, normals };
  edgeFields.set(image, field);
  return field;
}

export function synthesizeWarpAnomaly(rng: Rng, target: RgbImage): Anomaly | undefined {
  const { width: w, height: h } = target;
  const { centres, normals } = edgeFieldOf(target);
  const need = Math.max(MIN_CHANGED, MIN_CHANGED_SHARE * w * h);
  let best: { anomaly: Anomaly; changed: number } | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const j = Math.floor(rng.next() * centres.length);
    const at = centres[j]!;
    const radius = Math.max(3, Math.sqrt((rng.logRange(WARP_AREA[0], WARP_AREA[1]) * w * h) / Math.PI));
    const normal: [number, number] = [normals[2 * j]!, normals[2 * j + 1]!];
    const kind = rng.chance(0.5) ? "dent" : "twist";
    const sign = rng.chance(0.5) ? -1 : 1;
    const amount = kind === "dent" ? sign * Math.round(rng.range(DENT_PUSH[0], DENT_PUSH[1]) * radius * 100) / 100 : sign * Math.round(rng.range(TWIST_DEGREES[0], TWIST_DEGREES[1]) * 10) / 10;
    const info: WarpInfo = { kind, x: (at % w) + 0, y: Math.floor(at / w), radius: Math.round(radius * 100) / 100, amount };
    const { image, changed } = applyWarp(target, info, normal);
    const seen = maskArea(changed);
    if (seen === 0) continue;
    const mask = growInDisk(changed, MASK_GROW, info);
    const area = maskArea(mask);
    const anomaly: Anomaly = {
      image,
      mask,
      info: { parts: [{ family: "ellipse", angle: 0 }], areaFraction: area / (w * h), visibleFraction: seen / area, paste: { dx: 0, dy: 0, transform: 0, gain: 1, bias: 0 }, warp: info },
    };
    if (seen >= need) return anomaly;
    if (!best || seen > best.changed) best = { anomaly, changed: seen };
  }
  return best?.anomaly;
}
