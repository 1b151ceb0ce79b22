/**
 * Seeded randomness for the demo data set. Kept private to the generator
 * (mulberry32 plus a string hash) so the bytes it writes for a seed cannot
 * change when some other module's shared PRNG changes.
 */

/** A stream of uniform numbers in [0, 1) with a few derived draws. */
export interface Rng {
  next(): number;
  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number;
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Log-uniform in [lo, hi): sizes spread evenly over scales. */
  logRange(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** A fresh 32-bit seed drawn from this stream. */
  seed(): number;
}

export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    range: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor((hi - lo + 1) * next()),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // 1 - next() keeps the log argument in (0, 1].
      const r = Math.sqrt(-2 * Math.log(1 - next()));
      const th = 2 * Math.PI * next();
      spare = r * Math.sin(th);
      return r * Math.cos(th);
    },
    logRange: (lo, hi) => lo * Math.exp(Math.log(hi / lo) * next()),
    pick: (items) => {
      if (items.length === 0) throw new RangeError("pick from an empty list");
      return items[Math.floor(items.length * next())] as (typeof items)[number];
    },
    chance: (p) => next() < p,
    seed: () => Math.floor(next() * 4294967296) >>> 0,
  };
  return rng;
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
