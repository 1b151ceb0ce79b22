/**
 * Per-region overlap (PRO) and its normalized area up to 30 % FPR (AUPRO), as
 * MVTec AD defines it (Bergmann et al., "The MVTec Anomaly Detection Dataset",
 * IJCV 2021): every connected ground-truth region counts equally, whatever
 * its size, so a small defect that is missed weighs as much as a large one.
 *
 * At a threshold t (a pixel is predicted anomalous when its score ≥ t, t
 * running over the distinct scores as in the official code):
 *   PRO(t) = (1/#regions) Σ_regions |{p ∈ region : s(p) ≥ t}| / |region|
 *          = (1/#regions) Σ_{region pixels p, s(p) ≥ t} 1/|region(p)|,
 *   FPR(t) = |{normal p : s(p) ≥ t}| / #normal pixels,
 * normal pixels being every pixel outside the masks, good images included.
 * The second form of PRO is a weighted count, so one histogram of region
 * pixels weighted by 1/|region| and one of normal pixels, binned exactly as
 * {@link PixelMetricAccumulator} bins, give the whole curve in bounded memory
 * (2 × 2^20 float64 bins, 16 MB) for any number of images. Scores that share
 * a bin count as tied; with no two distinct scores in one bin the result is
 * the exact one.
 */
import { addOccupied, BinRange, PIXEL_BINS, pixelBins } from "./metrics.js";
import { labelRegions } from "../image/connected-components.js";
import { invalidInput } from "../util/errors.js";

/** MVTec AD integrates the PRO curve up to this false-positive rate. */
export const PRO_FPR_LIMIT = 0.3;

/** A curve as parallel arrays, x non-decreasing. */
export interface Curve {
  readonly x: Float64Array;
  readonly y: Float64Array;
}

export class ProAccumulator {
  private readonly normal = new Float64Array(PIXEL_BINS);
  private readonly overlap = new Float64Array(PIXEL_BINS);
  private nNormal = 0;
  private nRegions = 0;
  private readonly range = new BinRange();

  /** Connected ground-truth regions seen so far. */
  get regions(): number {
    return this.nRegions;
  }

  get normalPixels(): number {
    return this.nNormal;
  }

  /** Adds one map with its mask (row-major, `width` wide); the whole map is checked before anything is counted. */
  add(scores: Float32Array, mask: Uint8Array, width: number): void {
    if (scores.length !== mask.length) throw invalidInput(`PRO: ${scores.length} scores but a mask of ${mask.length} pixels`);
    const height = mask.length / width;
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height)) throw invalidInput(`PRO: a map of ${mask.length} pixels cannot be ${width} pixels wide`);
    const { bins, span } = pixelBins(scores, "PRO");
    const { labels, sizes, count } = labelRegions(mask, width, height);
    const weight = sizes.map((n) => 1 / n);
    let normals = 0;
    for (let i = 0; i < bins.length; i++) {
      const r = labels[i]!;
      const bin = bins[i]!;
      if (r === 0) {
        this.normal[bin]!++;
        normals++;
      } else {
        this.overlap[bin]! += weight[r - 1]!;
      }
    }
    this.nNormal += normals;
    this.nRegions += count;
    this.range.cover(span);
  }

  /** One accumulator holding every part's maps, as if each had been added to it (the parts are left as they are). */
  static sum(parts: readonly ProAccumulator[]): ProAccumulator {
    const total = new ProAccumulator();
    for (const part of parts) {
      addOccupied([total.normal, total.overlap], total.range, [part.normal, part.overlap], part.range);
      total.nNormal += part.nNormal;
      total.nRegions += part.nRegions;
    }
    return total;
  }

  /**
   * The (FPR, PRO) curve from (0, 0) to (1, 1): one point per non-empty bin,
   * thresholds from the highest score down. Throws when there is no region or
   * no normal pixel (the curve is undefined).
   */
  curve(): Curve {
    if (this.nRegions === 0 || this.nNormal === 0) {
      throw invalidInput(`PRO is undefined with ${this.nRegions} ground-truth regions and ${this.nNormal} normal pixels`);
    }
    const x: number[] = [0];
    const y: number[] = [0];
    let fp = 0;
    let overlap = 0;
    // Bins outside the range are empty, and the walk skips empty bins.
    for (let b = this.range.hi; b >= this.range.lo; b--) {
      const n = this.normal[b]!;
      const o = this.overlap[b]!;
      if (n === 0 && o === 0) continue;
      fp += n;
      overlap += o;
      x.push(fp / this.nNormal);
      // Σ 1/|region| over all region pixels is #regions up to rounding; clip as the official code does.
      y.push(Math.min(1, overlap / this.nRegions));
    }
    x.push(1);
    y.push(1);
    return { x: Float64Array.from(x), y: Float64Array.from(y) };
  }

  /** Area under the PRO curve up to FPR `limit`, divided by `limit` (0–1). */
  aupro(limit = PRO_FPR_LIMIT): number {
    return areaUpTo(this.curve(), limit) / limit;
  }
}

/**
 * Trapezoidal area under a piecewise-linear curve from x = x[0] to x = limit,
 * the last segment cut at `limit` with y interpolated linearly on it (MVTec
 * AD's trapezoid(x, y, x_max)). x must be non-decreasing; vertical steps add
 * nothing.
 */
export function areaUpTo(curve: Curve, limit: number): number {
  const { x, y } = curve;
  if (x.length !== y.length) throw invalidInput(`curve has ${x.length} x but ${y.length} y values`);
  let area = 0;
  for (let i = 0; i + 1 < x.length; i++) {
    const x0 = x[i]!, x1 = x[i + 1]!;
    if (x1 < x0) throw invalidInput(`curve x must be non-decreasing; x[${i + 1}] = ${x1} < x[${i}] = ${x0}`);
    if (x0 >= limit) break;
    const y0 = y[i]!, y1 = y[i + 1]!;
    if (x1 <= limit) {
      area += ((y0 + y1) / 2) * (x1 - x0);
    } else {
      const yLimit = y0 + ((y1 - y0) * (limit - x0)) / (x1 - x0);
      area += ((y0 + yLimit) / 2) * (limit - x0);
      break;
    }
  }
  return area;
}
