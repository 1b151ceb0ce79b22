/**
 * Detection metrics: AUROC and average precision, exact for image-level
 * scores and histogram-based for pixel-level scores, where a test set holds
 * hundreds of millions of pixels that cannot all be kept and sorted.
 *
 * Both come from the same walk over tie groups (all items sharing one score
 * threshold) in score order, so the exact and the binned versions differ only
 * in what counts as a tie.
 */
import { invalidInput } from "../util/errors.js";

/**
 * Area under the ROC curve = P(score of a positive > score of a negative),
 * ties counting ½ (Mann–Whitney U / (P·N)). Positives are labels that are
 * true or nonzero. O(n log n).
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const g = exactGroups(scores, labels, "AUROC");
  return aurocFromGroups(g.pos, g.neg, g.length);
}

/**
 * How far the positives stand from the negatives, in the negatives' standard
 * deviations: (mean of positives − mean of negatives) / sd of negatives
 * (population sd). Where AUROC saturates (every positive above every
 * negative) it still tells how clearly. Null without a positive, with fewer
 * than two negatives, or when the negatives do not vary.
 */
export function separation(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number | null {
  if (scores.length !== labels.length) throw invalidInput(`separation: ${scores.length} scores but ${labels.length} labels`);
  let np = 0, sp = 0, nn = 0, sn = 0, sn2 = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (Number.isNaN(v)) throw invalidInput(`separation: score ${i} is NaN`);
    if (labels[i]) (np++, (sp += v));
    else (nn++, (sn += v), (sn2 += v * v));
  }
  if (np === 0 || nn < 2) return null;
  const mean = sn / nn;
  const sd = Math.sqrt(Math.max(0, sn2 / nn - mean * mean));
  return sd > 0 ? (sp / np - mean) / sd : null;
}

/**
 * Average precision as scikit-learn's average_precision_score: Σ (R_n − R_{n−1}) P_n
 * over thresholds at each distinct score (tied scores form one threshold), no
 * interpolation.
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const g = exactGroups(scores, labels, "average precision");
  return apFromGroups(g.pos, g.neg, g.length);
}

/** Counts of positives and negatives per tie group, groups in ascending score order. */
export interface TieGroups {
  readonly pos: Float64Array;
  readonly neg: Float64Array;
  readonly length: number;
}

/** Tie groups in ascending score order: counts of positives and negatives per distinct score. */
export function exactGroups(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, what: string): TieGroups {
  if (scores.length !== labels.length) throw invalidInput(`${what}: ${scores.length} scores but ${labels.length} labels`);
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) nPos++;
  const p = new Float64Array(nPos);
  const q = new Float64Array(scores.length - nPos);
  for (let i = 0, a = 0, b = 0; i < scores.length; i++) {
    const s = scores[i]!;
    if (Number.isNaN(s)) throw invalidInput(`${what}: score ${i} is NaN`);
    if (labels[i]) p[a++] = s;
    else q[b++] = s;
  }
  requireBothClasses(p.length, q.length, what);
  // Typed-array sort is numeric; merging the two sorted classes yields the groups.
  p.sort();
  q.sort();
  const pos = new Float64Array(p.length + q.length);
  const neg = new Float64Array(p.length + q.length);
  let i = 0, j = 0, length = 0;
  while (i < p.length || j < q.length) {
    const v = Math.min(i < p.length ? p[i]! : Infinity, j < q.length ? q[j]! : Infinity);
    let cp = 0, cq = 0;
    while (i < p.length && p[i] === v) { i++; cp++; }
    while (j < q.length && q[j] === v) { j++; cq++; }
    pos[length] = cp;
    neg[length] = cq;
    length++;
  }
  return { pos, neg, length };
}

function requireBothClasses(positives: number, negatives: number, what: string): void {
  if (positives === 0 || negatives === 0) {
    throw invalidInput(`${what} is undefined with only ${positives === 0 ? "negative" : "positive"} labels (${positives} positive, ${negatives} negative)`);
  }
}

/** Groups in ascending score order; each positive beats the negatives below it and ties half of its own group's. */
function aurocFromGroups(pos: Float64Array, neg: Float64Array, length: number): number {
  let negBelow = 0, wins = 0, nPos = 0;
  for (let g = 0; g < length; g++) {
    const p = pos[g]!, q = neg[g]!;
    if (p > 0) wins += p * (negBelow + q / 2);
    negBelow += q;
    nPos += p;
  }
  return wins / (nPos * negBelow);
}

/** Thresholds from the highest group down; recall only moves at groups holding positives. */
function apFromGroups(pos: Float64Array, neg: Float64Array, length: number): number {
  let tp = 0, fp = 0, sum = 0;
  for (let g = length - 1; g >= 0; g--) {
    const p = pos[g]!;
    tp += p;
    fp += neg[g]!;
    if (p > 0) sum += (p * tp) / (tp + fp);
  }
  return sum / tp;
}

/** bits >>> 11 keeps the sign (0 for accepted scores), 8 exponent bits and 12 mantissa bits: 2^20 bins. */
const BIN_SHIFT = 11;
const BINS = 1 << (32 - 1 - BIN_SHIFT);
/** Number of score bins of the bounded pixel histograms (see {@link PixelMetricAccumulator}). */
export const PIXEL_BINS = BINS;
/** Bit pattern of +Infinity; anything above is NaN, and negative numbers have the sign bit set. */
const INF_BITS = 0x7f800000;
const NEG_ZERO_BITS = 0x80000000;

/**
 * Pixel-level AUROC and AP in bounded memory (two 2^20-bin histograms, 16 MB)
 * for any number of pixels.
 *
 * For non-negative float32 scores the IEEE-754 bit pattern, read as an
 * unsigned integer, increases with the value, so its top bits are a
 * monotone bin key: bin = bits >>> 11 keeps the exponent and the 12 leading
 * mantissa bits. Scores that share a bin (relative difference below
 * 2^−12 ≈ 2.4·10⁻⁴) are treated as one tie group; scores that fall in
 * different bins are ordered exactly, so with no two distinct scores in one
 * bin the results equal {@link auroc} and {@link averagePrecision}. Negative
 * and NaN scores are rejected; +Infinity has its own bin.
 */
export class PixelMetricAccumulator {
  private readonly pos = new Float64Array(BINS);
  private readonly neg = new Float64Array(BINS);
  private nPos = 0;
  private nNeg = 0;
  private readonly range = new BinRange();

  get positives(): number {
    return this.nPos;
  }

  get negatives(): number {
    return this.nNeg;
  }

  /** Adds one map; the whole map is checked before anything is counted. */
  add(scores: Float32Array, mask: Uint8Array): void {
    if (scores.length !== mask.length) throw invalidInput(`pixel metrics: ${scores.length} scores but a mask of ${mask.length} pixels`);
    const { bins, span } = pixelBins(scores, "pixel metrics");
    let p = 0;
    for (let i = 0; i < bins.length; i++) {
      const bin = bins[i]!;
      if (mask[i] !== 0) {
        this.pos[bin]!++;
        p++;
      } else {
        this.neg[bin]!++;
      }
    }
    this.nPos += p;
    this.nNeg += mask.length - p;
    this.range.cover(span);
  }

  /** One accumulator holding every part's pixels, as if each part's maps had been added to it (the parts are left as they are). */
  static sum(parts: readonly PixelMetricAccumulator[]): PixelMetricAccumulator {
    const total = new PixelMetricAccumulator();
    for (const part of parts) {
      addOccupied([total.pos, total.neg], total.range, [part.pos, part.neg], part.range);
      total.nPos += part.nPos;
      total.nNeg += part.nNeg;
    }
    return total;
  }

  /** The histograms as tie groups (one per bin, ascending), for curves; read-only views. */
  groups(): TieGroups {
    return { pos: this.pos, neg: this.neg, length: BINS };
  }

  auroc(): number {
    requireBothClasses(this.nPos, this.nNeg, "pixel AUROC");
    const { lo, hi } = this.range;
    return aurocFromGroups(this.pos.subarray(lo), this.neg.subarray(lo), hi - lo + 1);
  }

  /** The AUROC, or null while it is undefined (no anomalous or no normal pixel yet): what a sweep records for such a point. */
  aurocOrNull(): number | null {
    return this.nPos > 0 && this.nNeg > 0 ? this.auroc() : null;
  }

  averagePrecision(): number {
    requireBothClasses(this.nPos, this.nNeg, "pixel average precision");
    const { lo, hi } = this.range;
    return apFromGroups(this.pos.subarray(lo), this.neg.subarray(lo), hi - lo + 1);
  }
}

/**
 * The bins a histogram has counted into, lo..hi (none while lo > hi): the
 * rest hold zeros, so sums and walks skip them. A map's scores span a few
 * thousand of the 2^20 bins.
 */
export class BinRange {
  lo = BINS;
  hi = -1;

  /** Widens the range to cover `other`'s bins too. */
  cover(other: { readonly lo: number; readonly hi: number }): void {
    if (other.lo < this.lo) this.lo = other.lo;
    if (other.hi > this.hi) this.hi = other.hi;
  }
}

/**
 * Adds each source histogram into its target, bin by bin over the bins the
 * sources occupy, and widens the targets' range to cover them: one part of
 * an accumulator's sum.
 */
export function addOccupied(targets: readonly Float64Array[], targetRange: BinRange, sources: readonly Float64Array[], sourceRange: BinRange): void {
  targets.forEach((target, h) => {
    const source = sources[h]!;
    for (let i = sourceRange.lo; i <= sourceRange.hi; i++) target[i] = target[i]! + source[i]!;
  });
  targetRange.cover(sourceRange);
}

/**
 * The histogram bin of every score of a pixel map (the monotone key described
 * at {@link PixelMetricAccumulator}), and the lowest and highest of them;
 * throws, naming `what`, if any score is negative or NaN, before the caller
 * counts anything.
 */
export function pixelBins(scores: Float32Array, what: string): { bins: Uint32Array; span: { lo: number; hi: number } } {
  const bits = new Uint32Array(scores.buffer, scores.byteOffset, scores.length);
  const bins = new Uint32Array(scores.length);
  let lo = BINS;
  let hi = -1;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i]!;
    if (b > INF_BITS && b !== NEG_ZERO_BITS) throw invalidInput(`${what}: score ${scores[i]} at pixel ${i} is negative or NaN; pixel scores must be ≥ 0`);
    const bin = b === NEG_ZERO_BITS ? 0 : b >>> BIN_SHIFT;
    bins[i] = bin;
    if (bin < lo) lo = bin;
    if (bin > hi) hi = bin;
  }
  return { bins, span: { lo, hi } };
}

/** The smallest score that falls in `bin` (its lower edge), e.g. to label a binned curve's thresholds. */
export function binLowerEdge(bin: number): number {
  const u = new Uint32Array([bin << BIN_SHIFT]);
  return new Float32Array(u.buffer)[0]!;
}
