/**
 * A logical pseudo-anomaly: a part removed, or a part added where none
 * belongs, made from the target image alone. Pasted fragments (anomaly.ts)
 * bring foreign content and usually a seam, which fine feature stages see
 * whatever the layout; a missing or extra component brings neither: every
 * patch still looks normal, only the arrangement is wrong. A tuner that
 * never sees such anomalies rewards settings that trade layout sensitivity
 * for texture sensitivity (issue 10: a fine-stage bank chosen by pasted
 * anomalies cost the logical class 10 points of image AUROC).
 *
 * Without knowing where the parts are, a part is read as a square that is
 * busy inside and plain around: the luma's variance is high over a
 * component and low over plate or background (whose fine texture has
 * little amplitude, though many edges), so a square that holds a whole
 * component varies far more than the ring around it, and one that cuts a
 * component does not (partCandidates,
 * over a ladder of sides, which so follows the components' size). Then
 *   - removed: such a square is overwritten by a plain square from
 *     elsewhere in the same image;
 *   - added: such a square is copied onto a plain one;
 * each blended in by seamless cloning (poisson.ts) inside a disc, so
 * nothing but the content gives it away. The ground truth is the disc: the
 * footprint of the part that went or came, as real logical masks are.
 *
 * On a uniform texture no square holds a part, and there is no logical
 * anomaly to make: the caller pastes a fragment instead (anomaly.ts).
 */
import type { RgbImage } from "../decode.js";
import { MASK_THRESHOLD } from "../synth/sample.js";
import type { Rng } from "../synth/rng.js";
import { emptyMask, type BinaryMask } from "./mask.js";
import { visibleFraction } from "./paste.js";
import { poissonBlend } from "./poisson.js";

export type LogicalKind = "removed" | "added";

export interface LogicalInfo {
  readonly kind: LogicalKind;
  /** Side of the square, pixels; the mask is the disc inscribed in it. */
  readonly side: number;
  /** Top-left corners: the content of `from` now shows at `to`. */
  readonly from: { readonly x: number; readonly y: number };
  readonly to: { readonly x: number; readonly y: number };
}

export interface LogicalAnomaly {
  readonly image: RgbImage;
  readonly mask: BinaryMask;
  readonly visibleFraction: number;
  readonly info: LogicalInfo;
}

/** Sides of the squares tried, as shares of the image's shorter side: small fittings to large components. */
export const PART_SIDE_RANGE: readonly [number, number] = [0.08, 0.25];
/** Squares in the top (busy) and bottom (plain) share of luma variance are the candidates for a part and a free place. */
const TAIL_SHARE = 0.2;
const MIN_SIDE = 8;
/** Width of the ring around a square, as a share of its side. */
const RING = 0.25;
/** A square whose luma varies this many times more than in its ring holds a whole component. */
const ISOLATED = 3;
/** Positions at least this share of the best isolation nearby hold the component whole. */
const PLATEAU = 0.9;
/** Sides tried between PART_SIDE_RANGE's ends, log-spaced. */
const SIDE_LADDER = 6;
/**
 * Share of the disc that must visibly change. Lower than a pasted
 * fragment's: the disc is the part's whole footprint, and a part seldom
 * fills its square, so the plate around it stays as it was.
 */
export const MIN_VISIBLE_LOGICAL = 0.25;
const MAX_ATTEMPTS = 8;

/** Summed-area tables of the luma and of its square, `(width+1)*(height+1)` each, so a rectangle's moments are four lookups. */
export interface LumaMoments {
  readonly width: number;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
}

/** Luma (ITU-R BT.601 weights) of pixel `i` of an RGB buffer. */
export function luma(rgb: Uint8Array, i: number): number {
  return 0.299 * rgb[3 * i]! + 0.587 * rgb[3 * i + 1]! + 0.114 * rgb[3 * i + 2]!;
}

export function lumaMoments(image: RgbImage): LumaMoments {
  const { width, height, rgb } = image;
  const sum = new Float64Array((width + 1) * (height + 1));
  const sumSq = new Float64Array((width + 1) * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    let rowSq = 0;
    for (let x = 0; x < width; x++) {
      const l = luma(rgb, y * width + x);
      row += l;
      rowSq += l * l;
      const t = (y + 1) * (width + 1) + x + 1;
      sum[t] = sum[t - width - 1]! + row;
      sumSq[t] = sumSq[t - width - 1]! + rowSq;
    }
  }
  return { width, sum, sumSq };
}

/** Sum of a table's quantity over the w×h rectangle with top-left (x, y). */
function rectSum(table: Float64Array, width: number, x: number, y: number, w: number, h: number): number {
  const stride = width + 1;
  return table[(y + h) * stride + x + w]! - table[y * stride + x + w]! - table[(y + h) * stride + x]! + table[y * stride + x]!;
}

/** Sum of a table's quantity over the square with top-left (x, y) and the given side. */
export function squareSum(table: Float64Array, width: number, x: number, y: number, side: number): number {
  return rectSum(table, width, x, y, side, side);
}

/** Variance from a region's pixel count, luma sum and sum of squares. */
function varianceOf(n: number, sum: number, sumSq: number): number {
  const mean = sum / n;
  return Math.max(0, sumSq / n - mean * mean);
}

/** Luma variance over the square with top-left (x, y) and the given side. */
export function squareVariance(m: LumaMoments, x: number, y: number, side: number): number {
  return varianceOf(side * side, squareSum(m.sum, m.width, x, y, side), squareSum(m.sumSq, m.width, x, y, side));
}

export interface Place {
  readonly x: number;
  readonly y: number;
  readonly side: number;
  /** Luma variance inside the square. */
  readonly structure: number;
  /** Variance inside over variance in the ring around it: high when the square holds a whole component on plain ground. */
  readonly isolation: number;
}

/** The square at (x, y), with its ring (a RING share of the side wide on each side) inside the image: its variance and isolation. */
function placeAt(m: LumaMoments, x: number, y: number, side: number, floor: number): Place {
  const r = ringWidth(side);
  const outer = side + 2 * r;
  const ringPixels = outer * outer - side * side;
  const inner = squareSum(m.sum, m.width, x, y, side);
  const innerSq = squareSum(m.sumSq, m.width, x, y, side);
  const structure = varianceOf(side * side, inner, innerSq);
  const ring = varianceOf(ringPixels, squareSum(m.sum, m.width, x - r, y - r, outer) - inner, squareSum(m.sumSq, m.width, x - r, y - r, outer) - innerSq);
  return { x, y, side, structure, isolation: structure / (ring + floor) };
}

/** Width of the plain band around a part's square on each side (a RING share of the side). */
export function ringWidth(side: number): number {
  return Math.max(1, Math.round(RING * side));
}

/** Every square of the side on a stride of a quarter side whose ring lies inside the image. `floor` keeps a square on perfectly flat ground finite. */
function places(m: LumaMoments, height: number, side: number, floor: number): Place[] {
  const stride = Math.max(1, Math.floor(side / 4));
  const r = ringWidth(side);
  const out: Place[] = [];
  for (let y = r; y + side + r <= height; y += stride) {
    for (let x = r; x + side + r <= m.width; x += stride) out.push(placeAt(m, x, y, side, floor));
  }
  return out;
}

/**
 * The square near `p` that is centred on its component. A square with
 * room to spare holds the component whole at a run of offsets, all about
 * equally isolated (a plateau); the best of them may sit at the plateau's
 * edge, where the inscribed disc cuts the component's corners and the
 * blend smears what is left. So: from the most isolated square within one
 * stride, walk out along its row, then along the column through the row's
 * middle, while the isolation stays within PLATEAU of the best, and take
 * each run's middle. Walking (not averaging a window) keeps a neighbouring
 * component's plateau out.
 */
function centred(m: LumaMoments, height: number, p: Place, floor: number): Place {
  const stride = Math.max(1, Math.floor(p.side / 4));
  const r = ringWidth(p.side);
  const [xMin, xMax, yMin, yMax] = [r, m.width - p.side - r, r, height - p.side - r];
  let best = p;
  for (let y = Math.max(yMin, p.y - stride); y <= Math.min(yMax, p.y + stride); y++) {
    for (let x = Math.max(xMin, p.x - stride); x <= Math.min(xMax, p.x + stride); x++) {
      const q = placeAt(m, x, y, p.side, floor);
      if (q.isolation > best.isolation) best = q;
    }
  }
  const level = PLATEAU * best.isolation;
  const middle = (from: number, lo: number, hi: number, at: (v: number) => number) => {
    let a = from;
    let b = from;
    while (a - 1 >= lo && at(a - 1) >= level) a--;
    while (b + 1 <= hi && at(b + 1) >= level) b++;
    return Math.round((a + b) / 2);
  };
  const x = middle(best.x, xMin, xMax, (v) => placeAt(m, v, best.y, p.side, floor).isolation);
  const y = middle(best.y, yMin, yMax, (v) => placeAt(m, x, v, p.side, floor).isolation);
  return placeAt(m, x, y, p.side, floor);
}

/**
 * Where the parts are, over a ladder of sides. Among the busy squares (top
 * TAIL_SHARE of variance at their side), those varying ISOLATED times more
 * than their ring hold a whole component on plain ground: a square
 * that cuts a component has its edges in the ring. The largest such
 * squares are kept first, each unless a kept one's centre lies within half
 * a side of its own, so a component wins over a detail inside it (a nut's
 * hole is isolated too, by the nut's flat face). On a uniform texture no
 * square is isolated: there are no parts to move, and none is returned.
 */
function partCandidates(bySide: readonly Place[][]): Place[] {
  const busy = bySide.flatMap((ps) => {
    const sorted = [...ps].sort((a, b) => b.structure - a.structure);
    return sorted.slice(0, Math.max(1, Math.floor(sorted.length * TAIL_SHARE)));
  });
  const pool = busy.filter((p) => p.isolation >= ISOLATED);
  pool.sort((a, b) => b.side - a.side || b.isolation - a.isolation);
  const kept: Place[] = [];
  for (const p of pool) {
    const cx = p.x + p.side / 2;
    const cy = p.y + p.side / 2;
    const near = kept.some((k) => {
      const reach = Math.max(k.side, p.side) / 2;
      return Math.abs(k.x + k.side / 2 - cx) < reach && Math.abs(k.y + k.side / 2 - cy) < reach;
    });
    if (!near) kept.push(p);
  }
  return kept;
}

export function discMask(width: number, height: number, x: number, y: number, side: number): BinaryMask {
  const mask = emptyMask(width, height);
  const r = side / 2;
  for (let v = 0; v < side; v++) {
    for (let u = 0; u < side; u++) {
      if ((u + 0.5 - r) ** 2 + (v + 0.5 - r) ** 2 <= r * r) mask.data[(y + v) * width + x + u] = 1;
    }
  }
  return mask;
}

/** The target with the square at `from` (of `source`, an image of its size: by default itself) copied over the square at `to`: the guide that seamless cloning follows. */
export function copySquare(image: RgbImage, from: { x: number; y: number }, to: { x: number; y: number }, side: number, source: RgbImage = image): RgbImage {
  const { width } = image;
  const rgb = new Uint8Array(image.rgb);
  for (let v = 0; v < side; v++) {
    const s = 3 * ((from.y + v) * width + from.x);
    rgb.set(source.rgb.subarray(s, s + 3 * side), 3 * ((to.y + v) * width + to.x));
  }
  return { ...image, rgb };
}

/** How far the source may shift to line its surroundings up with the destination's, pixels: a texture period or two. */
const ALIGN_REACH = 8;
/** Width of the band just outside the square that is compared. */
const ALIGN_BAND = 3;

/**
 * The source square shifted by up to ALIGN_REACH so that the band around
 * it matches the band around the destination best (least squared luma
 * difference). A plate's fine weave or grain continues across the disc's
 * edge only when the copy is in phase with it; out of phase, the edge is
 * a ring of broken texture that fine feature stages see as a defect,
 * whatever was moved, and a real missing or extra part leaves no such ring.
 */
export function alignedSource(image: RgbImage, from: { x: number; y: number }, to: { x: number; y: number }, side: number): { x: number; y: number } {
  // The shifted source must still lie apart from the destination.
  return alignedSquare(image, image, from, to, side, (p) => !overlaps(p, to, side));
}

/**
 * alignedSource across two images of one size: the square of `source` near
 * `from` whose surrounding band best matches the band around `to` in
 * `target`, among the shifts `allowed` accepts.
 */
export function alignedSquare(source: RgbImage, target: RgbImage, from: { x: number; y: number }, to: { x: number; y: number }, side: number, allowed: (p: { x: number; y: number }) => boolean = () => true): { x: number; y: number } {
  const { width, height } = target;
  if (source.width !== width || source.height !== height) throw new RangeError(`source ${source.width}×${source.height} and target ${width}×${height} differ in size`);
  const band: [number, number][] = [];
  for (let v = -ALIGN_BAND; v < side + ALIGN_BAND; v++) {
    for (let u = -ALIGN_BAND; u < side + ALIGN_BAND; u++) {
      if (u >= 0 && u < side && v >= 0 && v < side) continue;
      const x = to.x + u;
      const y = to.y + v;
      if (x >= 0 && x < width && y >= 0 && y < height) band.push([u, v]);
    }
  }
  let best = { x: from.x, y: from.y };
  let bestCost = Infinity;
  for (let dy = -ALIGN_REACH; dy <= ALIGN_REACH; dy++) {
    for (let dx = -ALIGN_REACH; dx <= ALIGN_REACH; dx++) {
      const x = from.x + dx;
      const y = from.y + dy;
      if (x - ALIGN_BAND < 0 || y - ALIGN_BAND < 0 || x + side + ALIGN_BAND > width || y + side + ALIGN_BAND > height) continue;
      if (!allowed({ x, y })) continue;
      let cost = 0;
      for (const [u, v] of band) cost += (luma(source.rgb, (y + v) * width + x + u) - luma(target.rgb, (to.y + v) * width + to.x + u)) ** 2;
      // Ties (a perfectly flat plate) keep the smallest shift.
      if (cost < bestCost - 1e-9 || (Math.abs(cost - bestCost) <= 1e-9 && Math.abs(dx) + Math.abs(dy) < Math.abs(best.x - from.x) + Math.abs(best.y - from.y))) {
        bestCost = cost;
        best = { x, y };
      }
    }
  }
  return best;
}

function overlaps(a: { x: number; y: number }, b: { x: number; y: number }, side: number): boolean {
  return Math.abs(a.x - b.x) < side && Math.abs(a.y - b.y) < side;
}

/**
 * The parts of an image, each a square centred on its component, and every
 * place of each side tried (for finding plain ones); undefined when the
 * image is too small to hold a part and its ring, or has none (a texture).
 */
export function findParts(target: RgbImage): { parts: Place[]; sides: number[]; bySide: Place[][] } | undefined {
  const { width, height } = target;
  const minSide = Math.min(width, height);
  // Too small to hold a part and its ring: the set builder pastes a fragment instead, as for a texture.
  if (minSide < 2 * MIN_SIDE) return undefined;
  const moments = lumaMoments(target);
  // A twentieth of the whole image's variance: plate noise far below a component's contrast still counts as plain.
  const floor = 0.05 * varianceOf(width * height, rectSum(moments.sum, width, 0, 0, width, height), rectSum(moments.sumSq, width, 0, 0, width, height)) + 1e-9;
  const [lo, hi] = PART_SIDE_RANGE.map((f) => Math.max(MIN_SIDE, Math.min(Math.floor(minSide / 3), Math.round(f * minSide))));
  const sides = [...new Set(Array.from({ length: SIDE_LADDER }, (_, i) => Math.round(lo! * (hi! / lo!) ** (i / (SIDE_LADDER - 1)))))];
  const bySide = sides.map((side) => places(moments, height, side, floor));
  const parts = partCandidates(bySide).map((p) => centred(moments, height, p, floor));
  return parts.length > 0 ? { parts, sides, bySide } : undefined;
}

/**
 * A part removed or added, or undefined when the image has no part to
 * move (a uniform texture: moving a square of it would be invisible, and
 * an invisible anomaly only dilutes a validation set), no plain place, or
 * is too small for either.
 */
export function synthesizeLogical(rng: Rng, target: RgbImage): LogicalAnomaly | undefined {
  const { width, height } = target;
  const found = findParts(target);
  if (!found) return undefined;
  const { parts, sides, bySide } = found;
  let best: LogicalAnomaly | undefined;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const kind: LogicalKind = rng.chance(0.5) ? "removed" : "added";
    const part = parts[Math.floor(rng.next() * parts.length)]!;
    const side = part.side;
    const sorted = bySide[sides.indexOf(side)]!.filter((p) => !overlaps(p, part, side)).sort((a, b) => a.structure - b.structure);
    if (sorted.length === 0) continue;
    const plain = sorted[Math.floor(rng.next() * Math.max(1, Math.floor(sorted.length * TAIL_SHARE)))]!;
    const [to, roughFrom] = kind === "removed" ? [part, plain] : [plain, part];
    const from = alignedSource(target, roughFrom, to, side);
    const mask = discMask(width, height, to.x, to.y, side);
    const image = poissonBlend(target, copySquare(target, from, to, side), mask).image;
    const visible = visibleFraction(target, image, mask, MASK_THRESHOLD);
    const candidate: LogicalAnomaly = { image, mask, visibleFraction: visible, info: { kind, side, from: { x: from.x, y: from.y }, to: { x: to.x, y: to.y } } };
    if (visible >= MIN_VISIBLE_LOGICAL) return candidate;
    if (!best || visible > best.visibleFraction) best = candidate;
  }
  // Parts but no free place apart from them: nothing to move either.
  return best;
}
