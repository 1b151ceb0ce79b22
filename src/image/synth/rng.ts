/**
 * Seeded randomness for the demo data set: the shared mulberry32 stream of
 * src/util/random.ts plus the draws a picture generator needs (ranges, picks,
 * log-uniform sizes) and per-image seed derivation. A change to the shared
 * stream changes every generated image; the golden test in
 * test/image/synth/determinism.test.ts catches that.
 */
import { createRng } from "../../util/random.js";

/** A stream of uniform numbers in [0, 1) with a few derived draws. */
export interface Rng {
  next(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** Standard normal. */
  normal(): number;
  /** Log-uniform in [lo, hi): sizes spread evenly over scales. */
  logRange(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** A fresh 32-bit seed drawn from this stream. */
  seed(): number;
}

export function seededRng(seed: number): Rng {
  const base = createRng(seed);
  const next = base.next;
  return {
    next,
    normal: base.normal,
    range: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    logRange: (lo, hi) => lo * Math.exp(Math.log(hi / lo) * next()),
    pick: (items) => {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(items.length * next())] as (typeof items)[number];
    },
    chance: (p) => next() < p,
    seed: () => Math.floor(next() * 4294967296) >>> 0,
  };
}

/**
 * A 32-bit seed from a base seed and a path of names/indices. Each image gets
 * its own stream derived this way, so an image's pixels depend only on the
 * seed and its place in the layout, not on how many images came before it
 * (changing --train does not change the test set).
 */
export function deriveSeed(seed: number, ...path: Array<string | number>): number {
  // FNV-1a over the text, then a murmur3 finalizer to spread nearby seeds.
  let h = 0x811c9dc5 ^ (seed >>> 0);
  const text = path.join("/");
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= seed >>> 16;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
