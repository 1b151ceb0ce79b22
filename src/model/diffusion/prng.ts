/**
 * Random streams for the diffusion code, on top of the shared generator
 * (src/util/random.ts). Streams are derived from (seed, ...keys) by hashing,
 * so a training step, a parameter or a frame draws the same numbers no matter
 * what ran before it: resume and per-frame determinism need no saved
 * generator state.
 */
import { createRng as createBaseRng, type Rng } from "../../util/random.js";

export type { Rng };

function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let z = a;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Mixes a seed and integer keys (up to 2^53) into one 32-bit stream id. */
export function mixSeed(seed: number, ...keys: number[]): number {
  let h = splitmix32(seed >>> 0);
  for (const k of keys) {
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = splitmix32((h ^ lo) >>> 0);
    h = splitmix32((h ^ hi ^ 0x5bd1e995) >>> 0);
  }
  return h;
}

/** The stream for (seed, ...keys). */
export function createRng(seed: number, ...keys: number[]): Rng {
  return createBaseRng(mixSeed(seed, ...keys));
}

/** Uniform integer in [lo, hi]. */
export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.min(Math.floor(rng.next() * (hi - lo + 1)), hi - lo);
}

/** Fills `out` with standard normals from `rng`. */
export function fillNormal<A extends Float32Array>(rng: Rng, out: A): A {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/** A Fisher–Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, 0, i);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** FNV-1a of a string, for per-name streams (parameter init). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
