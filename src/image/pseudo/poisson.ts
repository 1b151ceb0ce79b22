/**
 * Seamless cloning (Pérez, Gangnet and Blake 2003), as NSA (Schlüter et al.
 * 2022) uses it to make synthetic anomalies look natural: inside the mask,
 * find the image f whose discrete Laplacian equals the fragment's, with f
 * equal to the target on the mask's outer border. The fragment's texture
 * and shape come in; the cut edge and the fragment's overall shift in
 * brightness do not. A hard paste leaves a seam that a fine feature stage
 * detects whatever the fragment shows; a real missing or misplaced part has
 * no such seam.
 *
 * Per channel, the unknowns are the masked pixels p, with N(p) their 4-
 * neighbours inside the image:
 *   |N(p)|·f_p − Σ_{q ∈ N(p) ∩ mask} f_q = Σ_{q ∈ N(p) ∩ mask} (g_p − g_q) + Σ_{q ∈ N(p) \ mask} t_q
 * where g is the guide (the hard-pasted fragment, read on the mask only) and
 * t the target. The guidance across the mask's border is taken as zero
 * rather than read from the fragment beyond its cut, so the border pixels
 * follow the target, and a hard paste can serve as the guide as it is.
 * The matrix is the masked 5-point Laplacian:
 * symmetric and positive definite whenever every connected part of the mask
 * has a neighbour outside it, so conjugate gradients solve it, started
 * from the guide (the hard paste) and preconditioned by the diagonal.
 */
import type { RgbImage } from "../decode.js";
import { maskBox, type BinaryMask } from "./mask.js";

export interface PoissonOptions {
  /** Stop when the residual's norm falls below this share of the right-hand side's. */
  readonly tolerance?: number;
  readonly maxIterations?: number;
}

export interface PoissonResult {
  readonly image: RgbImage;
  /** Conjugate-gradient iterations of the slowest channel. */
  readonly iterations: number;
  /** Largest relative residual over the channels at the end (≤ tolerance unless maxIterations stopped it). */
  readonly residual: number;
}

/** Relative residual: within 2 levels of the exact solution on 8-bit images (measured against 1e-9 up to 84,000-pixel masks). */
const DEFAULT_TOLERANCE = 1e-4;
const DEFAULT_MAX_ITERATIONS = 5000;

/** The masked pixels, and for each of them its 4 neighbours' unknown index (−1: outside the mask, −2: outside the image). */
interface MaskedSystem {
  readonly pixels: Int32Array;
  readonly neighbours: Int32Array;
  readonly degree: Float64Array;
}

function maskedSystem(mask: BinaryMask): MaskedSystem {
  const { width, height, data } = mask;
  const index = new Int32Array(width * height).fill(-1);
  let n = 0;
  for (let i = 0; i < data.length; i++) if (data[i]) index[i] = n++;
  const pixels = new Int32Array(n);
  const neighbours = new Int32Array(4 * n);
  const degree = new Float64Array(n);
  for (let i = 0; i < data.length; i++) {
    const u = index[i]!;
    if (u < 0) continue;
    pixels[u] = i;
    neighbourPixels(i, width, height).forEach((q, k) => {
      neighbours[4 * u + k] = q < 0 ? -2 : index[q]!;
      if (q >= 0) degree[u]!++;
    });
  }
  return { pixels, neighbours, degree };
}

/** Neighbour pixel positions of pixel p (−1 outside the image), in the order maskedSystem stores them. */
function neighbourPixels(p: number, width: number, height: number): [number, number, number, number] {
  const x = p % width;
  const y = (p - x) / width;
  return [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
}

/** `guide` has the target's size; only its values on the mask are read. Pixels outside the mask are the target's, unchanged. */
export function poissonBlend(target: RgbImage, guide: RgbImage, mask: BinaryMask, options: PoissonOptions = {}): PoissonResult {
  const { width, height } = target;
  if (guide.width !== width || guide.height !== height || mask.width !== width || mask.height !== height) {
    throw new RangeError(`poisson blend needs equal sizes: target ${width}x${height}, guide ${guide.width}x${guide.height}, mask ${mask.width}x${mask.height}`);
  }
  const solver = { tolerance: options.tolerance ?? DEFAULT_TOLERANCE, maxIterations: options.maxIterations ?? DEFAULT_MAX_ITERATIONS };
  const rgb = new Uint8Array(target.rgb);
  const box = maskBox(mask);
  if (!box) return { image: { width, height, rgb, gray: target.gray }, iterations: 0, residual: 0 };
  // Work on the mask's box and a 1-pixel margin (its border's outside neighbours): the cost follows the mask, not the image.
  const crop = { x0: Math.max(0, box.x0 - 1), y0: Math.max(0, box.y0 - 1), x1: Math.min(width - 1, box.x1 + 1), y1: Math.min(height - 1, box.y1 + 1) };
  const cw = crop.x1 - crop.x0 + 1;
  const ch = crop.y1 - crop.y0 + 1;
  const at = (i: number) => (crop.y0 + Math.floor(i / cw)) * width + crop.x0 + (i % cw);
  const cropMask = new Uint8Array(cw * ch);
  for (let i = 0; i < cropMask.length; i++) cropMask[i] = mask.data[at(i)]!;
  const sys = maskedSystem({ width: cw, height: ch, data: cropMask });
  const n = sys.pixels.length;
  // Without a border the system fixes f only up to a constant (singular): nothing to blend into.
  if (!sys.neighbours.includes(-1)) throw new RangeError("poisson blend needs pixels outside the mask to blend into");
  let iterations = 0;
  let residual = 0;
  // A gray target has three equal channels and so three equal systems: solve one and copy it.
  for (const c of target.gray ? [0] : [0, 1, 2]) {
    const channel = (image: RgbImage) => Float64Array.from({ length: cw * ch }, (_, i) => image.rgb[3 * at(i) + c]!);
    const plane: Plane = { width: cw, height: ch, mask: cropMask, target: channel(target), guide: channel(guide) };
    const solved = solvePlane(plane, sys, solver);
    iterations = Math.max(iterations, solved.iterations);
    residual = Math.max(residual, solved.residual);
    for (let u = 0; u < n; u++) {
      const v = Math.round(solved.f[u]!);
      const level = v < 0 ? 0 : v > 255 ? 255 : v;
      const o = 3 * at(sys.pixels[u]!);
      if (target.gray) rgb[o] = rgb[o + 1] = rgb[o + 2] = level;
      else rgb[o + c] = level;
    }
  }
  return { image: { width, height, rgb, gray: target.gray }, iterations, residual };
}

/** One channel of the problem, as floats so that coarser copies can average. */
interface Plane {
  readonly width: number;
  readonly height: number;
  readonly mask: Uint8Array;
  readonly target: Float64Array;
  readonly guide: Float64Array;
}

/** Below this many unknowns a plane is solved directly, without a coarser start. */
const COARSE_BELOW = 2048;

/**
 * f on the mask's pixels (in the system's order). Conjugate gradients remove
 * the seam's smooth, far-reaching correction slowly (hundreds of iterations
 * on a mask 300 pixels across), so the start is the guide plus that
 * correction solved on a half-size copy of the problem, recursively
 * (cascadic multigrid): the fine solve then only mends the detail. The
 * answer is the same system's solution; only the starting point differs.
 */
function solvePlane(plane: Plane, sys: MaskedSystem, solver: { tolerance: number; maxIterations: number }): { f: Float64Array; iterations: number; residual: number } {
  const { width, height, target, guide } = plane;
  const n = sys.pixels.length;
  const b = new Float64Array(n);
  const f = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    const p = sys.pixels[u]!;
    const gp = guide[p]!;
    let rhs = 0;
    neighbourPixels(p, width, height).forEach((q, k) => {
      if (q < 0) return;
      if (sys.neighbours[4 * u + k] === -1) rhs += target[q]!;
      else rhs += gp - guide[q]!;
    });
    b[u] = rhs;
    f[u] = gp;
  }
  const coarse = n >= COARSE_BELOW ? halfSize(plane) : undefined;
  if (coarse) {
    const coarseSys = maskedSystem({ width: coarse.width, height: coarse.height, data: coarse.mask });
    if (coarseSys.neighbours.includes(-1)) {
      const { f: cf } = solvePlane(coarse, coarseSys, solver);
      const correction = new Float64Array(coarse.width * coarse.height);
      coarseSys.pixels.forEach((cp, v) => (correction[cp] = cf[v]! - coarse.guide[cp]!));
      for (let u = 0; u < n; u++) {
        const p = sys.pixels[u]!;
        const x = p % width;
        const y = (p - x) / width;
        f[u]! += correction[(y >> 1) * coarse.width + (x >> 1)]!;
      }
    }
  }
  const solved = conjugateGradient(sys, b, f, solver.tolerance, solver.maxIterations);
  return { f, ...solved };
}

/** The plane at half size: 2×2 means of target and guide, and a coarse pixel masked when any of its fine pixels is. */
function halfSize(plane: Plane): Plane | undefined {
  const { width, height } = plane;
  if (width < 4 || height < 4) return undefined;
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const mask = new Uint8Array(cw * ch);
  const target = new Float64Array(cw * ch);
  const guide = new Float64Array(cw * ch);
  const count = new Float64Array(cw * ch);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const q = (y >> 1) * cw + (x >> 1);
      mask[q]! |= plane.mask[p]!;
      target[q]! += plane.target[p]!;
      guide[q]! += plane.guide[p]!;
      count[q]!++;
    }
  }
  for (let q = 0; q < count.length; q++) {
    target[q]! /= count[q]!;
    guide[q]! /= count[q]!;
  }
  return { width: cw, height: ch, mask, target, guide };
}

/** y = A x for the masked Laplacian. */
function applyLaplacian(sys: MaskedSystem, x: Float64Array, y: Float64Array): void {
  for (let u = 0; u < x.length; u++) {
    let s = sys.degree[u]! * x[u]!;
    for (let k = 0; k < 4; k++) {
      const v = sys.neighbours[4 * u + k]!;
      if (v >= 0) s -= x[v]!;
    }
    y[u] = s;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Solves A x = b in place from the starting x, with the diagonal (Jacobi) preconditioner. */
function conjugateGradient(sys: MaskedSystem, b: Float64Array, x: Float64Array, tolerance: number, maxIterations: number): { iterations: number; residual: number } {
  const n = b.length;
  const r = new Float64Array(n);
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const ap = new Float64Array(n);
  applyLaplacian(sys, x, ap);
  for (let i = 0; i < n; i++) r[i] = b[i]! - ap[i]!;
  const bNorm = Math.sqrt(dot(b, b)) || 1;
  let rNorm = Math.sqrt(dot(r, r));
  for (let i = 0; i < n; i++) p[i] = z[i] = r[i]! / sys.degree[i]!;
  let rz = dot(r, z);
  let it = 0;
  while (rNorm / bNorm > tolerance && it < maxIterations) {
    applyLaplacian(sys, p, ap);
    const alpha = rz / dot(p, ap);
    for (let i = 0; i < n; i++) {
      x[i]! += alpha * p[i]!;
      r[i]! -= alpha * ap[i]!;
      z[i] = r[i]! / sys.degree[i]!;
    }
    const next = dot(r, z);
    const beta = next / rz;
    rz = next;
    for (let i = 0; i < n; i++) p[i] = z[i]! + beta * p[i]!;
    rNorm = Math.sqrt(dot(r, r));
    it++;
  }
  return { iterations: it, residual: rNorm / bNorm };
}
