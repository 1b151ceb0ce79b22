/**
 * One synthesized anomaly: a combined mask on the target, a fragment cut
 * from the source at a clearly different place, pasted and labelled.
 *
 * The ground truth is the whole pasted region, not only the pixels that
 * changed: the paper labels "these fragments" as the anomalous regions, and
 * a per-pixel difference test would punch speckle holes wherever the
 * fragment happens to match what it covers (flat background, the same
 * yarn colour), which no real defect mask has. Instead a draw is kept only
 * when enough of the region visibly changed (MIN_VISIBLE); otherwise a new
 * mask and placement are drawn, and after MAX_ATTEMPTS the most visible
 * draw is kept and its visible share recorded, so a consumer can see it.
 *
 * Same-spot pasting between aligned images (two nuts, two crops of one
 * fabric) is nearly invisible, so the source position is at least
 * `minShift` away from the paste position, and half the time the fragment
 * is also flipped or turned and re-lit.
 *
 * A share of the anomalies (`seamless`, none by default) is blended in by
 * seamless cloning (poisson.ts) rather than pasted: the fragment's texture
 * without its cut edge or brightness step, as NSA does, so the set also
 * holds anomalies that only the content gives away, like a missing or
 * misplaced part, and not only ones a seam betrays. The choice is drawn
 * once per anomaly, and only when the share is above zero, so a set without
 * seamless anomalies is the same as before they existed.
 *
 * A logical anomaly (synthesizeLogicalAnomaly) is not a fragment at all
 * but a part of the target removed or added (logical.ts), for the classes
 * whose defects are in the layout; the set builder decides which anomalies
 * are logical (samples.ts).
 */
import type { RgbImage } from "../decode.js";
import { invalidInput } from "../../util/errors.js";
import { MASK_THRESHOLD } from "../synth/sample.js";
import type { Rng } from "../synth/rng.js";
import { combinedMask, DEFAULT_MASK_OPTIONS, type MaskOptions, type MaskPart } from "./combine.js";
import { maskArea, maskBox, type BinaryMask, type MaskBox } from "./mask.js";
import { pasteFragment, visibleFraction, type ContentTransform, type PasteParams } from "./paste.js";
import { synthesizeLogical, type LogicalInfo } from "./logical.js";
import { poissonBlend } from "./poisson.js";
import type { WarpInfo } from "./warp.js";

/** Share of the region that must change by at least MASK_THRESHOLD levels for a draw to be kept. */
export const MIN_VISIBLE = 0.5;
const MAX_ATTEMPTS = 12;
const SHIFT_TRIES = 32;

export interface AnomalyInfo {
  readonly parts: readonly MaskPart[];
  readonly areaFraction: number;
  /** Share of the region changed by at least MASK_THRESHOLD levels in some channel. */
  readonly visibleFraction: number;
  readonly paste: PasteParams;
  /** Present when the fragment was blended in by seamless cloning rather than pasted. */
  readonly blend?: "seamless";
  /** Present for a logical anomaly (logical.ts): a part of the target removed or added; the paste is then a shift within the target. */
  readonly logical?: LogicalInfo;
  /** Present for a shade anomaly (shade.ts): the target's own pixels re-lit in place; the paste is then the identity but for its gain and bias. */
  readonly shade?: true;
  /** Present for a warp anomaly (warp.ts): the target's own pixels moved near an edge; the paste is then the identity. */
  readonly warp?: WarpInfo;
}

export interface Anomaly {
  readonly image: RgbImage;
  /** 0/1, width*height. */
  readonly mask: BinaryMask;
  readonly info: AnomalyInfo;
}

export interface AnomalyOptions {
  readonly masks?: MaskOptions;
  /** Chance that the fragment is flipped or turned, and (independently) re-lit. */
  readonly transformChance?: number;
  /** Share of anomalies blended in by seamless cloning instead of a hard paste, 0–1 (default 0). */
  readonly seamless?: number;
}

/**
 * Where to cut: a source centre for the fragment whose (possibly turned)
 * box stays in the image, at least `minShift` from the paste centre (the
 * farthest candidate when none is that far, e.g. a fragment nearly as large
 * as the image).
 */
export function drawShift(rng: Rng, width: number, height: number, box: MaskBox, swapAxes: boolean, minShift: number): { dx: number; dy: number } {
  const cx = (box.x0 + box.x1) / 2;
  const cy = (box.y0 + box.y1) / 2;
  const hw = (box.x1 - box.x0) / 2;
  const hh = (box.y1 - box.y0) / 2;
  const rx = swapAxes ? hh : hw;
  const ry = swapAxes ? hw : hh;
  const lox = Math.min(rx, (width - 1) / 2);
  const loy = Math.min(ry, (height - 1) / 2);
  let best = { dx: 0, dy: 0 };
  let bestDist = -1;
  for (let i = 0; i < SHIFT_TRIES; i++) {
    const sx = rng.range(lox, Math.max(lox, width - 1 - rx));
    const sy = rng.range(loy, Math.max(loy, height - 1 - ry));
    const dx = Math.round(sx - cx);
    const dy = Math.round(sy - cy);
    const dist = Math.hypot(dx, dy);
    if (dist >= minShift) return { dx, dy };
    if (dist > bestDist) {
      best = { dx, dy };
      bestDist = dist;
    }
  }
  return best;
}

export function synthesizeAnomaly(rng: Rng, target: RgbImage, source: RgbImage, options: AnomalyOptions = {}): Anomaly {
  const { width, height } = target;
  const maskOptions = options.masks ?? DEFAULT_MASK_OPTIONS;
  const chance = options.transformChance ?? 0.5;
  const share = options.seamless ?? 0;
  if (!(share >= 0 && share <= 1)) throw invalidInput(`the seamless share must be a number from 0 to 1, got ${share}`);
  const seamless = share > 0 && rng.chance(share);
  return mostVisibleDraw(rng, target, maskOptions, "paste", (mask, box) => {
    const transform = (rng.chance(chance) ? rng.int(1, 7) : 0) as ContentTransform;
    const relit = rng.chance(chance);
    const gain = relit ? Math.round(rng.logRange(0.8, 1.25) * 100) / 100 : 1;
    const bias = relit ? rng.int(-20, 20) : 0;
    // A tenth of the shorter side, or half the fragment's longer side, whichever is more.
    const minShift = Math.max(0.1 * Math.min(width, height), 0.5 * Math.max(box.x1 - box.x0, box.y1 - box.y0));
    const shift = drawShift(rng, width, height, box, (transform & 4) !== 0, minShift);
    const paste: PasteParams = { ...shift, transform, gain, bias };
    const pasted = pasteFragment(target, source, mask, box, paste);
    return { image: seamless ? poissonBlend(target, pasted, mask).image : pasted, paste, ...(seamless ? { blend: "seamless" as const } : {}) };
  });
}

/** What a draw puts under its mask: the new image and how it was made. */
type UnderMask = Pick<AnomalyInfo, "paste" | "blend" | "shade"> & { readonly image: RgbImage };

/**
 * Up to MAX_ATTEMPTS draws of a combined mask and of what `under` puts
 * under it (drawing from the same stream, after the mask): the first draw
 * that visibly changes at least MIN_VISIBLE of its region, else the most
 * visible one. Pasted (here) and shaded (shade.ts) anomalies are drawn so.
 */
export function mostVisibleDraw(rng: Rng, target: RgbImage, masks: MaskOptions, verb: string, under: (mask: BinaryMask, box: MaskBox) => UnderMask): Anomaly {
  const { width, height } = target;
  let best: Anomaly | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const { mask, parts, areaFraction } = combinedMask(rng, width, height, masks);
    const box = maskBox(mask);
    if (!box) continue;
    const { image, ...how } = under(mask, box);
    const visible = visibleFraction(target, image, mask, MASK_THRESHOLD);
    const candidate: Anomaly = { image, mask, info: { parts, areaFraction, visibleFraction: visible, ...how } };
    if (visible >= MIN_VISIBLE) return candidate;
    if (!best || visible > best.info.visibleFraction) best = candidate;
  }
  if (!best) throw invalidInput(`image of ${width}x${height} is too small to ${verb} an anomaly into`);
  return best;
}

/** A logical anomaly (logical.ts) as an Anomaly, or undefined when the target has no part to move. */
export function synthesizeLogicalAnomaly(rng: Rng, target: RgbImage): Anomaly | undefined {
  const made = synthesizeLogical(rng, target);
  if (!made) return undefined;
  const { from, to } = made.info;
  return {
    image: made.image,
    mask: made.mask,
    info: {
      parts: [{ family: "ellipse", angle: 0 }],
      areaFraction: maskArea(made.mask) / (target.width * target.height),
      visibleFraction: made.visibleFraction,
      paste: { dx: from.x - to.x, dy: from.y - to.y, transform: 0, gain: 1, bias: 0 },
      blend: "seamless",
      logical: made.info,
    },
  };
}
