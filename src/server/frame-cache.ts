/**
 * Recent frames the daemon scored, so that AcceptNormal / ConfirmDefect can
 * name a frame by its frame_id alone. Bounded by total frame bytes and by
 * age (config frameCache.*); the oldest entries go first.
 *
 * Frame ids are chosen by clients, so two streams (two cameras, or one
 * client restarting its counter) may use the same id. All entries under an
 * id are kept; a lookup that finds different images under one id is
 * ambiguous and refused rather than guessed. The same image scored twice
 * under one id (a retry) is not ambiguous: the newest entry answers.
 */
import { createHash } from "node:crypto";
import type { FrameInput } from "../pipeline/types.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface CachedFrame {
  readonly frameId: string;
  /** Which call scored it (peer and stream), for the ambiguity message. */
  readonly origin: string;
  readonly frame: FrameInput;
  readonly score: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  readonly modelVersion: string;
  readonly classTag: string;
  /** The class its features read as (DetectResponse.frame_class; "" when none). */
  readonly frameClass: string;
  /** DetectResponse.look_ratio and unlike_any_class: like none of the model's classes (the ledger wants force to accept it). */
  readonly lookRatio?: number;
  /** DetectResponse.light_ratio: the look ratio is the light's when it is as large (the ledger's refusal names the light). */
  readonly lightRatio?: number;
  readonly unlike?: boolean;
  /** Milliseconds (cache clock) when it was scored. */
  readonly at: number;
}

interface Entry {
  readonly frame: CachedFrame;
  readonly bytes: number;
  digest?: string;
}

function frameBytes(f: FrameInput): Uint8Array {
  return f.kind === "encoded" ? f.bytes : f.pixels;
}

function digestOf(e: Entry): string {
  const f = e.frame.frame;
  e.digest ??= createHash("sha256")
    .update(f.kind === "raw" ? `${f.width}x${f.height}:${f.format}:` : "encoded:")
    .update(frameBytes(f))
    .digest("hex");
  return e.digest;
}

export class FrameCache {
  private readonly queue: Entry[] = [];
  private head = 0;
  private readonly byId = new Map<string, Entry[]>();
  private totalBytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get stats(): { frames: number; bytes: number } {
    return { frames: this.queue.length - this.head, bytes: this.totalBytes };
  }

  put(frame: Omit<CachedFrame, "at">): void {
    const bytes = frameBytes(frame.frame).byteLength;
    if (bytes === 0 || bytes > this.maxBytes || frame.frameId === "") return;
    const entry: Entry = { frame: { ...frame, at: this.now() }, bytes };
    this.queue.push(entry);
    const list = this.byId.get(frame.frameId);
    if (list) list.push(entry);
    else this.byId.set(frame.frameId, [entry]);
    this.totalBytes += bytes;
    this.evict();
  }

  /** The frame scored under `frameId`; NOT_FOUND when gone, CONFLICT when the id names different images. */
  find(frameId: string): CachedFrame {
    this.evict();
    const list = this.byId.get(frameId);
    if (!list || list.length === 0) {
      throw new LafiteError(ErrorCode.NOT_FOUND, `frame id '${frameId}' is not among the recently scored frames (cache keeps ${Math.round(this.maxAgeMs / 1000)} s / ${this.maxBytes} bytes); send the image instead`);
    }
    const distinct = new Set(list.map(digestOf));
    if (distinct.size > 1) {
      const origins = [...new Set(list.map((e) => e.frame.origin))];
      throw new LafiteError(ErrorCode.CONFLICT, `frame id '${frameId}' names ${distinct.size} different images scored recently (by ${origins.join(", ")}); send the image instead`);
    }
    return list[list.length - 1]!.frame;
  }

  private evict(): void {
    const oldest = this.now() - this.maxAgeMs;
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (this.totalBytes <= this.maxBytes && e.frame.at >= oldest) break;
      this.head++;
      this.totalBytes -= e.bytes;
      const list = this.byId.get(e.frame.frameId)!;
      list.shift();
      if (list.length === 0) this.byId.delete(e.frame.frameId);
    }
    // Compact now and then so the queue array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
