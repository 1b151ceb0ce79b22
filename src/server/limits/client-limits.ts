/**
 * Per-client limits (config limits.perPeer.*, limits.perToken.*), so one
 * misbehaving line cannot starve the others of the shared frame queue:
 * open streaming calls per client address, and frames per second per client
 * address and per token. A refusal is RATE_LIMITED (RESOURCE_EXHAUSTED) with a
 * message naming the limit and its config key.
 */
import type { Config } from "../../config/schema.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { TokenBuckets } from "./token-bucket.js";

export type LimitName = "perPeer.maxStreams" | "perPeer.framesPerSecond" | "perToken.framesPerSecond";

export class ClientLimits {
  private readonly streams = new Map<string, number>();
  private readonly maxStreams: number | null;
  private readonly peerRate: TokenBuckets | null;
  private readonly tokenRate: TokenBuckets | null;

  constructor(
    limits: Pick<Config["limits"], "perPeer" | "perToken">,
    private readonly onRefused: (limit: LimitName) => void = () => {},
    now?: () => number,
  ) {
    this.maxStreams = limits.perPeer.maxStreams;
    this.peerRate = limits.perPeer.framesPerSecond === null ? null : new TokenBuckets(limits.perPeer.framesPerSecond, now);
    this.tokenRate = limits.perToken.framesPerSecond === null ? null : new TokenBuckets(limits.perToken.framesPerSecond, now);
  }

  /** Counts a new streaming call of `peer`; returns its release function, or throws RATE_LIMITED. */
  openStream(peer: string): () => void {
    const open = this.streams.get(peer) ?? 0;
    if (this.maxStreams !== null && open >= this.maxStreams) {
      this.onRefused("perPeer.maxStreams");
      throw new LafiteError(
        ErrorCode.RATE_LIMITED,
        `too many open streams from ${peer}: ${open} open, limit ${this.maxStreams} (config limits.perPeer.maxStreams); close one first`,
      );
    }
    this.streams.set(peer, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.streams.get(peer) ?? 1) - 1;
      if (n <= 0) this.streams.delete(peer);
      else this.streams.set(peer, n);
    };
  }

  /** Open streaming calls of `peer`. */
  openStreams(peer: string): number {
    return this.streams.get(peer) ?? 0;
  }

  /** Admits one frame of `peer` sent with `principal` (undefined: no token), or returns the refusal. */
  admitFrame(peer: string, principal: string | undefined): LafiteError | undefined {
    if (this.peerRate !== null && !this.peerRate.take(peer)) {
      this.onRefused("perPeer.framesPerSecond");
      return new LafiteError(
        ErrorCode.RATE_LIMITED,
        `frame rate limit of ${peer} hit: at most ${this.peerRate.rate} frames per second (config limits.perPeer.framesPerSecond); frame not processed`,
      );
    }
    if (this.tokenRate !== null && principal !== undefined && !this.tokenRate.take(principal)) {
      this.onRefused("perToken.framesPerSecond");
      return new LafiteError(
        ErrorCode.RATE_LIMITED,
        `frame rate limit of ${principal} hit: at most ${this.tokenRate.rate} frames per second (config limits.perToken.framesPerSecond); frame not processed`,
      );
    }
    return undefined;
  }
}
