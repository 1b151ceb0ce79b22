/**
 * The one progress and cancellation mechanism shared by long jobs (synth,
 * fit, train, eval, tune). Progress goes to a sink (stderr by default) at
 * most twice a second; cancellation is an AbortSignal that jobs check between
 * units of work, so an interrupt leaves files in a consistent state.
 */
import { LafiteError, ErrorCode } from "./errors.js";

/** Where a job's progress stands when a line is printed: what a sink needs to build an overall ETA (pipeline/fit-eta.ts). */
export interface ProgressState {
  readonly label: string;
  readonly done: number;
  readonly total: number;
  readonly elapsedSeconds: number;
  /** This job's own ETA (Infinity before the first unit). */
  readonly remainingSeconds: number;
}

export type ProgressSink = (line: string, state?: ProgressState) => void;

export const stderrSink: ProgressSink = (line) => process.stderr.write(`${line}\n`);

export interface ProgressOptions {
  /** Unit name for the rate, e.g. "images" or "steps". */
  unit?: string;
  sink?: ProgressSink;
  /** Minimum milliseconds between lines. */
  intervalMs?: number;
  /** Extra text appended to each line (e.g. the current loss). */
  detail?: () => string;
  /**
   * The ETA in seconds given the rate-based one, for jobs whose end is not
   * only a count (a time budget); a total of Infinity or ≥ 2^53 shows no "/total".
   */
  remainingSeconds?: (byRate: number) => number;
  now?: () => number;
}

export class Progress {
  private done = 0;
  private readonly start: number;
  private lastPrint = -Infinity;
  private readonly unit: string;
  private readonly sink: ProgressSink;
  private readonly interval: number;
  private readonly now: () => number;

  constructor(
    readonly label: string,
    readonly total: number,
    private readonly options: ProgressOptions = {},
  ) {
    this.unit = options.unit ?? "items";
    this.sink = options.sink ?? stderrSink;
    this.interval = options.intervalMs ?? 500;
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  get count(): number {
    return this.done;
  }

  tick(n = 1): void {
    this.done += n;
    const t = this.now();
    if (t - this.lastPrint >= this.interval || this.done >= this.total) {
      this.lastPrint = t;
      this.sink(this.line(t), this.state(t));
    }
  }

  state(t = this.now()): ProgressState {
    const secs = Math.max((t - this.start) / 1000, 1e-9);
    const rate = this.done / secs;
    const byRate = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const remaining = this.done >= this.total ? 0 : this.options.remainingSeconds ? this.options.remainingSeconds(byRate) : byRate;
    return { label: this.label, done: this.done, total: this.total, elapsedSeconds: secs, remainingSeconds: remaining };
  }

  /** Rate and ETA as a line, e.g. "fit: 40/200 images 12.5 images/s ETA 13s". */
  line(t = this.now()): string {
    const { elapsedSeconds: secs, remainingSeconds: remaining } = this.state(t);
    const rate = this.done / secs;
    const eta = this.done >= this.total ? `done in ${formatSeconds(secs)}` : `ETA ${formatSeconds(remaining)}`;
    const detail = this.options.detail ? ` ${this.options.detail()}` : "";
    const count = this.total >= Number.MAX_SAFE_INTEGER ? `${this.done}` : `${this.done}/${this.total}`;
    return `${this.label}: ${count} ${this.unit} ${rate.toFixed(1)} ${this.unit}/s ${eta}${detail}`;
  }
}

/** "42s", "20m00s", "1h05m": rounded to whole seconds first, so 1199.6 s is 20m00s, never 19m60s. */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const total = Math.max(0, Math.round(s));
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (m < 60) return `${m}m${pad(total % 60)}s`;
  // Hours show whole minutes, rounded from the seconds.
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)}h${pad(minutes % 60)}m`;
}

/** Throws CANCELLED if the signal fired; call between units of work. */
export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new LafiteError(ErrorCode.CANCELLED, `${what} was interrupted`);
}

/**
 * An AbortSignal that fires on the first SIGINT/SIGTERM; a second signal
 * exits at once (the user insists). Returns a disposer restoring handlers.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: finishing the current step and stopping cleanly (send again to abort at once)\n`);
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}
