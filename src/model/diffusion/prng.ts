/**
 * A small seeded PRNG private to the diffusion code (xoshiro128** with a
 * splitmix32 seeder, Box–Muller normals). Streams are derived from
 * (seed, ...keys) by hashing, so a training step or a frame draws the same
 * numbers no matter what ran before it: resume and per-frame determinism
 * need no saved generator state.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
}

function splitmix32(a: number): () => number {
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Mixes a seed and any number of integer keys into one 32-bit stream id. */
export function mixSeed(seed: number, ...keys: number[]): number {
  let h = splitmix32(seed >>> 0)();
  for (const k of keys) {
    // Fold 53-bit integers in two halves so large step counters stay distinct.
    const lo = k >>> 0;
    const hi = Math.floor(k / 4294967296) >>> 0;
    h = splitmix32((h ^ lo) >>> 0)();
    h = splitmix32((h ^ hi ^ 0x5bd1e995) >>> 0)();
  }
  return h;
}

export function createRng(seed: number, ...keys: number[]): Rng {
  const sm = splitmix32(mixSeed(seed, ...keys));
  let s0 = sm(), s1 = sm(), s2 = sm(), s3 = sm();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;
  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };
  const next = (): number => (u32() * 2097152 + (u32() >>> 11)) / 9007199254740992; // 53-bit uniform
  let spare: number | undefined;
  return {
    next,
    normal(): number {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u));
      const th = 2 * Math.PI * next();
      spare = r * Math.sin(th);
      return r * Math.cos(th);
    },
    int(lo: number, hi: number): number {
      return lo + Math.floor(next() * (hi - lo + 1));
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Fills `out` with standard normals from `rng`. */
export function fillNormal(rng: Rng, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/** A Fisher–Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** FNV-1a of a string, for deriving per-name streams (parameter init). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
