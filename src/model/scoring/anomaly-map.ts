/**
 * The anomaly map and image score of paper 3.3, Eq. 12:
 *   s = Upsample(‖x_rec − x‖²₂) ∗ g_σ,   score = max(AvgPool(s)).
 * Each piece is a pure function on row-major Float32Array maps so fit, eval
 * and serving share exactly one implementation.
 */
import type { FeatureMap } from "../types.js";
import { invalidInput } from "../../util/errors.js";

/** Eq. 12, inner term: ‖x_rec − x‖²₂ over channels, one value per position (h×w row-major). */
export function reconstructionError(xRec: FeatureMap, x: FeatureMap): Float32Array {
  if (xRec.c !== x.c || xRec.h !== x.h || xRec.w !== x.w) {
    throw invalidInput(`reconstruction ${xRec.c}×${xRec.h}×${xRec.w} does not match features ${x.c}×${x.h}×${x.w}`);
  }
  const hw = x.h * x.w;
  const acc = new Float64Array(hw);
  for (let ch = 0; ch < x.c; ch++) {
    const o = ch * hw;
    for (let p = 0; p < hw; p++) {
      const e = xRec.data[o + p]! - x.data[o + p]!;
      acc[p] = acc[p]! + e * e;
    }
  }
  return Float32Array.from(acc);
}

/**
 * Eq. 12, "Upsample": bilinear resize with ONNX Resize
 * coordinate_transformation_mode=half_pixel, i.e. PyTorch
 * interpolate(mode="bilinear", align_corners=False): destination pixel
 * centres map to x_src = (x + ½)·srcW/dstW − ½, and coordinates outside the
 * source are clamped to the edge pixels.
 */
export function resizeBilinear(src: Float32Array, srcW: number, srcH: number, dstW: number, dstH: number): Float32Array {
  checkMap(src, srcW, srcH, "source");
  if (!Number.isInteger(dstW) || !Number.isInteger(dstH) || dstW < 1 || dstH < 1) throw invalidInput(`target size ${dstW}×${dstH} must be positive integers`);
  const xs = axisTaps(srcW, dstW);
  const ys = axisTaps(srcH, dstH);
  const out = new Float32Array(dstW * dstH);
  for (let y = 0; y < dstH; y++) {
    const r0 = ys.i0[y]! * srcW, r1 = ys.i1[y]! * srcW, fy = ys.f[y]!;
    for (let x = 0; x < dstW; x++) {
      const i0 = xs.i0[x]!, i1 = xs.i1[x]!, fx = xs.f[x]!;
      const top = src[r0 + i0]! + (src[r0 + i1]! - src[r0 + i0]!) * fx;
      const bottom = src[r1 + i0]! + (src[r1 + i1]! - src[r1 + i0]!) * fx;
      out[y * dstW + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/** Per destination index: the two source taps and the weight of the second. */
function axisTaps(srcN: number, dstN: number): { i0: Int32Array; i1: Int32Array; f: Float64Array } {
  const i0 = new Int32Array(dstN), i1 = new Int32Array(dstN), f = new Float64Array(dstN);
  const scale = srcN / dstN;
  for (let x = 0; x < dstN; x++) {
    const s = Math.min(Math.max((x + 0.5) * scale - 0.5, 0), srcN - 1);
    const lo = Math.floor(s);
    i0[x] = lo;
    i1[x] = Math.min(lo + 1, srcN - 1);
    f[x] = s - lo;
  }
  return { i0, i1, f };
}

/**
 * Kernel radius for σ as anomalib computes it (kernel size 2·int(4σ + 0.5) + 1,
 * i.e. the radius is 4σ rounded half up, like scipy's truncate=4). For the
 * paper's σ = 4 this is 16, the same as ceil(4σ); they differ only when 4σ
 * has a fractional part (σ = 1.1: 4 here, 5 with ceil).
 */
export function gaussianRadius(sigma: number): number {
  return Math.floor(4 * sigma + 0.5);
}

/**
 * Eq. 12, "∗ g_σ": Gaussian blur, separable (rows then columns), kernel
 * exp(−i²/2σ²) for |i| ≤ {@link gaussianRadius}(σ) normalized to sum 1,
 * as kornia/anomalib's GaussianBlur2d. Border mode is "reflect" in the
 * PyTorch/kornia sense, mirroring about the edge pixel without repeating it
 * (… c b | a b c | b a …); where the radius exceeds the map the mirroring
 * repeats, which PyTorch would refuse.
 */
export function gaussianBlur(src: Float32Array, w: number, h: number, sigma: number): Float32Array {
  checkMap(src, w, h, "map");
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw invalidInput(`blur sigma ${sigma} must be a positive number`);
  const kernel = gaussianKernel(sigma);
  const r = (kernel.length - 1) / 2;
  const rowIdx = reflectTable(w, r);
  const colIdx = reflectTable(h, r);
  const tmp = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += kernel[k]! * src[o + rowIdx[x + k]!]!;
      tmp[o + x] = s;
    }
  }
  const out = new Float32Array(w * h);
  const acc = new Float64Array(w);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    // Whole rows at a time so the inner loop walks memory contiguously.
    for (let k = 0; k < kernel.length; k++) {
      const g = kernel[k]!;
      const o = colIdx[y + k]! * w;
      for (let x = 0; x < w; x++) acc[x] = acc[x]! + g * tmp[o + x]!;
    }
    out.set(acc, y * w);
  }
  return out;
}

/** The blur's kernel, exp(−i²/2σ²) for |i| ≤ gaussianRadius(σ), normalized to sum 1. */
function gaussianKernel(sigma: number): Float64Array {
  const r = gaussianRadius(sigma);
  const kernel = new Float64Array(2 * r + 1);
  let total = 0;
  for (let i = -r; i <= r; i++) total += kernel[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < kernel.length; i++) kernel[i] = kernel[i]! / total;
  return kernel;
}

/** Source index for each padded position −r … n−1+r (offset by r). */
function reflectTable(n: number, r: number): Int32Array {
  const out = new Int32Array(n + 2 * r);
  const period = 2 * (n - 1);
  for (let p = 0; p < out.length; p++) {
    if (n === 1) continue;
    let i = (((p - r) % period) + period) % period;
    if (i >= n) i = period - i;
    out[p] = i;
  }
  return out;
}

/**
 * Image-level score (text after Eq. 12): average pooling with a pool×pool
 * window, stride 1 and no padding ("valid"), then the maximum. Window sums
 * come from a summed-area table, so the cost does not grow with the pool.
 */
export function imageScore(map: Float32Array, w: number, h: number, pool: number): number {
  checkMap(map, w, h, "map");
  if (!Number.isInteger(pool) || pool < 1 || pool > w || pool > h) throw invalidInput(`pool ${pool} must be an integer between 1 and the map side ${Math.min(w, h)}`);
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      row += map[y * w + x]!;
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1]! + row;
    }
  }
  let best = -Infinity;
  for (let y = 0; y + pool <= h; y++) {
    for (let x = 0; x + pool <= w; x++) {
      const s = sat[(y + pool) * (w + 1) + x + pool]! - sat[y * (w + 1) + x + pool]! - sat[(y + pool) * (w + 1) + x]! + sat[y * (w + 1) + x]!;
      if (s > best) best = s;
    }
  }
  return best / (pool * pool);
}

/**
 * An alternative image score: the mean of the largest ⌈fraction · n⌉ map
 * values (ties broken arbitrarily, which cannot change the mean). Robust to a
 * single hot pixel like the pooled max, without a square window's shape.
 * Quickselect on a copy (linear on average) instead of a full sort, which
 * cost several milliseconds per 224×224 frame.
 */
export function topFractionMean(map: Float32Array, fraction: number): number {
  if (map.length === 0) throw invalidInput("map is empty");
  if (!(fraction > 0 && fraction <= 1)) throw invalidInput(`top fraction ${fraction} must be in (0, 1]`);
  const n = map.length;
  const k = Math.max(1, Math.ceil(fraction * n));
  const a = Float32Array.from(map);
  // Puts the k largest values in a[n-k .. n-1] (in any order).
  selectKth(a, n - k);
  let sum = 0;
  for (let i = n - k; i < n; i++) sum += a[i]!;
  return sum / k;
}

/** Rearranges `a` so a[target] is the value a sort would put there, smaller-or-equal values before it and larger-or-equal after (Hoare partition, median-of-three pivot). */
function selectKth(a: Float32Array, target: number): void {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // Median of three as the pivot keeps sorted or constant maps from the quadratic case.
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

/** How a map becomes the image score: the paper's pooled max, or the mean of the map's top fraction. */
export const IMAGE_SCORE_RULES = ["pool", "top"] as const;
export type ImageScoreRule = (typeof IMAGE_SCORE_RULES)[number];

export interface ImageScoreSettings {
  readonly imageScore?: ImageScoreRule;
  /** pool: the window of the average pooling before the max. */
  readonly pool: number;
  /** top: the fraction of the map averaged (default 0.01). */
  readonly top?: number;
}

/** The image score of an S×S map by its rule (absent = pool, as in bundles from before the choice). */
export function imageScoreOf(map: Float32Array, size: number, s: ImageScoreSettings): number {
  return s.imageScore === "top" ? topFractionMean(map, s.top ?? DEFAULT_TOP_FRACTION) : imageScore(map, size, size, s.pool);
}

export const DEFAULT_TOP_FRACTION = 0.01;

/**
 * Eq. 12: the per-position scores (h×w) upsampled to S×S, then blurred with
 * σ (paper: 4). Returns the S×S map, row-major.
 *
 * Both steps are linear and separable, so the map is A_h · D · A_wᵀ, where
 * A_n (S×n, axisOperator) is one axis's bilinear upsampling followed by its
 * blur. A_n is banded (an output pixel draws on a few grid cells), so this
 * costs about S²·(band) multiply-adds instead of the blur's S²·2(2r+1) over
 * the upsampled map: a tenth at S 224, grid 28, σ 4, where the blur had been
 * a quarter of a re-tune's time. gaussianBlur(resizeBilinear(…)) is the
 * reference it is tested against (equal to float rounding).
 */
export function anomalyMap(distances: Float32Array, h: number, w: number, size: number, sigma = 4): Float32Array {
  checkMap(distances, w, h, "score map");
  if (!Number.isInteger(size) || size < 1) throw invalidInput(`map size ${size} must be a positive integer`);
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw invalidInput(`blur sigma ${sigma} must be a positive number`);
  const rows = axisOperator(h, size, sigma);
  const cols = axisOperator(w, size, sigma);
  // tmp (h × S): each grid row carried to S columns.
  const tmp = new Float64Array(h * size);
  for (let y = 0; y < h; y++) {
    const o = y * size;
    for (let X = 0; X < size; X++) {
      let s = 0;
      for (let j = cols.from[X]!; j < cols.to[X]!; j++) s += cols.weights[X * w + j]! * distances[y * w + j]!;
      tmp[o + X] = s;
    }
  }
  const out = new Float32Array(size * size);
  const acc = new Float64Array(size);
  for (let Y = 0; Y < size; Y++) {
    acc.fill(0);
    for (let j = rows.from[Y]!; j < rows.to[Y]!; j++) {
      const a = rows.weights[Y * h + j]!;
      const o = j * size;
      for (let X = 0; X < size; X++) acc[X] = acc[X]! + a * tmp[o + X]!;
    }
    out.set(acc, Y * size);
  }
  return out;
}

/** One axis of anomalyMap: S×n weights (row-major) and, per output index, the band [from, to) of grid indices with a weight. */
interface AxisOperator {
  readonly weights: Float64Array;
  readonly from: Int32Array;
  readonly to: Int32Array;
}

const axisOperators = new Map<string, AxisOperator>();

/**
 * The S×n matrix of bilinear upsampling from n to S (resizeBilinear's taps)
 * followed by the Gaussian blur along the same axis (gaussianBlur's kernel
 * and reflection): row X holds the weight of each grid index in output X.
 * Cached: a model has one grid, S and σ.
 */
export function axisOperator(n: number, size: number, sigma: number): AxisOperator {
  const key = `${n} ${size} ${sigma}`;
  const known = axisOperators.get(key);
  if (known) return known;
  const taps = axisTaps(n, size);
  const kernel = gaussianKernel(sigma);
  const reflect = reflectTable(size, (kernel.length - 1) / 2);
  const weights = new Float64Array(size * n);
  for (let X = 0; X < size; X++) {
    for (let k = 0; k < kernel.length; k++) {
      const g = kernel[k]!;
      const p = reflect[X + k]!;
      weights[X * n + taps.i0[p]!] += g * (1 - taps.f[p]!);
      weights[X * n + taps.i1[p]!] += g * taps.f[p]!;
    }
  }
  const from = new Int32Array(size);
  const to = new Int32Array(size);
  for (let X = 0; X < size; X++) {
    let lo = 0;
    let hi = n;
    while (lo < hi && weights[X * n + lo] === 0) lo++;
    while (hi > lo && weights[X * n + hi - 1] === 0) hi--;
    from[X] = lo;
    to[X] = hi;
  }
  const op = { weights, from, to };
  if (axisOperators.size > 64) axisOperators.clear();
  axisOperators.set(key, op);
  return op;
}

function checkMap(map: Float32Array, w: number, h: number, what: string): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw invalidInput(`${what} size ${w}×${h} must be positive integers`);
  if (map.length !== w * h) throw invalidInput(`${what} of ${map.length} values is not ${w}×${h}`);
}
