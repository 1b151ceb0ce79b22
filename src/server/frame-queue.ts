/**
 * The daemon-wide frame queue: at most `concurrency` frames in the pipeline
 * at once and at most `maxWaiting` waiting for it, across every call. A frame
 * that finds the waiting room full is refused at once with OVERLOADED
 * (RESOURCE_EXHAUSTED), so memory stays bounded whatever clients do. A waiting
 * frame whose call is cancelled (client gone, deadline passed) leaves the
 * queue without running.
 */
import { LafiteError, ErrorCode } from "../util/errors.js";

interface Waiting {
  start: () => void;
  abandon: (err: unknown) => void;
}

export interface QueueStats {
  readonly running: number;
  readonly waiting: number;
  /** Most frames ever waiting at once. */
  readonly peakWaiting: number;
  /** Frames refused because the queue was full. */
  readonly refused: number;
  /** Frames that left the pipeline (any outcome); the watchdog's progress signal. */
  readonly completed: number;
}

export class FrameQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private peakWaiting = 0;
  private refused = 0;
  private completed = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly maxWaiting: number,
  ) {}

  get stats(): QueueStats {
    return { running: this.running, waiting: this.waiting.length, peakWaiting: this.peakWaiting, refused: this.refused, completed: this.completed };
  }

  /** Runs `job` when a slot is free; rejects OVERLOADED if the queue is full, CANCELLED if `signal` fires while waiting. */
  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    if (this.running < this.concurrency) return this.execute(job);
    if (this.waiting.length >= this.maxWaiting) {
      this.refused++;
      return Promise.reject(
        new LafiteError(ErrorCode.OVERLOADED, `frame queue is full (${this.maxWaiting} frames waiting, ${this.running} running); slow down or retry later`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(cancelled());
        this.notifyIdle();
      };
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.execute(job).then(resolve, reject);
        },
        abandon: reject,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
      if (this.waiting.length > this.peakWaiting) this.peakWaiting = this.waiting.length;
    });
  }

  /** Resolves once nothing runs or waits. */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async execute<T>(job: () => Promise<T>): Promise<T> {
    this.running++;
    try {
      return await job();
    } finally {
      this.running--;
      this.completed++;
      const next = this.waiting.shift();
      if (next) next.start();
      else this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.running > 0 || this.waiting.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

function cancelled(): LafiteError {
  return new LafiteError(ErrorCode.CANCELLED, "the call was cancelled or its deadline passed before the frame ran");
}
