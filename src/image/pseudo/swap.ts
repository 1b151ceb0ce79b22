/**
 * A swapped part: one part of a normal frame replaced by the same place of
 * another normal frame of its class, seamlessly cloned. Every part is then
 * a valid part, at a valid place; only the frame's consistency can be wrong
 * (a brass nut in a batch of steel ones, the realistic suite's `kit`), the
 * kind of logical anomaly a patch cannot show alone. Removed and added parts
 * (logical.ts) change what the features around them see; a swap does not,
 * so only a model that compares a patch with frames like its own sees it
 * (the context bank, model/scoring/context-bank.ts), and these samples are
 * what its weight is chosen on.
 *
 * Where the part brought in is like the target's own parts, the swap
 * breaks nothing, however many pixels it changes (the part turns or
 * shifts): such a sample is dropped (part-appearance.ts standsOut), and so
 * is one where too few pixels of the disc change. A class whose parts are
 * all alike gets no swaps, and neither does one without parts (a texture)
 * or without another frame of its size: nothing there speaks for context.
 */
import type { RgbImage } from "../decode.js";
import { MASK_THRESHOLD } from "../synth/sample.js";
import type { Rng } from "../synth/rng.js";
import { alignedSquare, copySquare, discMask, findParts, MIN_VISIBLE_LOGICAL, type LogicalAnomaly, type LogicalInfo } from "./logical.js";
import { partAppearance, standsOut } from "./part-appearance.js";
import { visibleFraction } from "./paste.js";
import { poissonBlend } from "./poisson.js";

/** Where the part came from and went, as a logical anomaly's: here `from` is a square of the source frame, `to` the same place (within a few pixels) of the target. */
export type SwapInfo = Omit<LogicalInfo, "kind">;

/** A swapped part; its visible fraction is measured on the hard copy before blending (see synthesizeSwap). */
export type SwappedPart = Omit<LogicalAnomaly, "info"> & { readonly info: SwapInfo };

const MAX_ATTEMPTS = 4;

/**
 * One of the target's parts replaced by the source's square at the same
 * place (shifted by up to a few pixels so the ground around it lines up,
 * as alignedSquare does), or undefined when the frames differ in size, the
 * target has no parts, or no tried part both stands out among the target's
 * parts of its kind and changes visibly. `found`: the
 * target's parts, when the caller tries several sources for one target.
 */
export function synthesizeSwap(rng: Rng, target: RgbImage, source: RgbImage, found = findParts(target)): SwappedPart | undefined {
  if (source.width !== target.width || source.height !== target.height) return undefined;
  if (!found) return undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const part = found.parts[Math.floor(rng.next() * found.parts.length)]!;
    const from = alignedSquare(source, target, part, part, part.side);
    if (!standsOut(target, found.parts, part, partAppearance(source, from.x, from.y, part.side))) continue;
    const mask = discMask(target.width, target.height, part.x, part.y, part.side);
    const guide = copySquare(target, from, part, part.side, source);
    // What the source brings, read on the hard copy: the blend alone re-levels a disc's inside (its guidance across the
    // border is zero), so comparing the blended image would count even a swap of identical parts as visible.
    const visible = visibleFraction(target, guide, mask, MASK_THRESHOLD);
    if (visible < MIN_VISIBLE_LOGICAL) continue;
    const image = poissonBlend(target, guide, mask).image;
    return { image, mask, visibleFraction: visible, info: { side: part.side, from: { x: from.x, y: from.y }, to: { x: part.x, y: part.y } } };
  }
  return undefined;
}
