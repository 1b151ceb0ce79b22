/**
 * Holds the Detector the server uses and swaps it atomically (SIGHUP
 * reload). Every frame leases the detector current when it starts; a
 * replaced detector is closed only after its last lease ends, so frames in
 * flight finish on the model they started with and no stream is dropped.
 */
import type { Detector, ModelInfo } from "../pipeline/types.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

interface Entry {
  readonly detector: Detector;
  leases: number;
  retired: boolean;
  closing?: Promise<void>;
}

export interface Lease {
  readonly detector: Detector;
  release(): void;
}

export class DetectorSlot {
  private current: Entry | undefined;
  private readonly retiring = new Set<Entry>();
  private closedWaiters: (() => void)[] = [];

  constructor(private readonly onCloseError: (err: unknown) => void = () => {}) {}

  get info(): ModelInfo | undefined {
    return this.current?.detector.info;
  }

  get loaded(): boolean {
    return this.current !== undefined;
  }

  /** The current detector, held until release(); NO_MODEL when none is loaded. */
  acquire(): Lease {
    const entry = this.current;
    if (entry === undefined) throw new LafiteError(ErrorCode.NO_MODEL, "no model is loaded yet (health is NOT_SERVING); retry when it is SERVING");
    entry.leases++;
    let released = false;
    return {
      detector: entry.detector,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.retired && entry.leases === 0) void this.close(entry);
      },
    };
  }

  /** Makes `next` current; the previous detector closes once its frames finish. Returns the previous one's info. */
  swap(next: Detector): ModelInfo | undefined {
    const prev = this.current;
    this.current = { detector: next, leases: 0, retired: false };
    if (prev) this.retire(prev);
    return prev?.detector.info;
  }

  /** Retires the current detector and waits until every detector has closed. */
  async closeAll(): Promise<void> {
    const prev = this.current;
    this.current = undefined;
    if (prev) this.retire(prev);
    while (this.retiring.size > 0) {
      const pending = [...this.retiring];
      await Promise.all(pending.map((e) => e.closing ?? new Promise<void>((resolve) => this.closedWaiters.push(resolve))));
    }
  }

  private retire(entry: Entry): void {
    entry.retired = true;
    this.retiring.add(entry);
    if (entry.leases === 0) void this.close(entry);
  }

  private close(entry: Entry): Promise<void> {
    entry.closing ??= entry.detector
      .close()
      .catch(this.onCloseError)
      .finally(() => {
        this.retiring.delete(entry);
        const waiters = this.closedWaiters;
        this.closedWaiters = [];
        for (const w of waiters) w();
      });
    return entry.closing;
  }
}
