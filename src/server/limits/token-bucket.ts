/**
 * A token bucket per key: `rate` tokens a second, holding at most `rate`
 * (one second's burst). Keys are client addresses or token names; a bucket
 * that has refilled and sat idle is forgotten, so the map stays as small as
 * the set of active clients.
 */
interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private takes = 0;

  constructor(
    readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.rate, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.rate, b.tokens + ((t - b.at) / 1000) * this.rate);
      b.at = t;
    }
    if (++this.takes % 1024 === 0) this.sweep(t);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets that would be full again by now (idle for more than a second). */
  private sweep(t: number): void {
    for (const [key, b] of this.buckets) if (t - b.at > 1000) this.buckets.delete(key);
  }
}
