/**
 * The systemd watchdog: WATCHDOG=1 every half WatchdogSec, but only while
 * the daemon makes progress, so systemd restarts a hung one. Two things must
 * work for a ping to go out:
 * - the event loop: the tick is a timer, so a blocked loop sends nothing;
 * - the pipeline: if frames were waiting or running at the last tick and at
 *   this one, and none completed in between, the pipeline is stuck and the
 *   ping is withheld (and logged). A frame may legitimately take longer than
 *   one tick; systemd acts only after WatchdogSec, i.e. two withheld pings.
 */
import type { Logger } from "../../util/log.js";
import type { Notifier } from "./notify.js";

export interface PipelineProgress {
  /** Frames running or waiting now. */
  readonly pending: number;
  /** Frames finished since start (any outcome). */
  readonly completed: number;
}

export type TickOutcome = "ping" | "withheld";

/** The decision alone, so it can be tested without timers. */
export class ProgressCheck {
  private last: PipelineProgress | undefined;

  /** "withheld" when work was pending at the previous check and now, and nothing completed in between. */
  check(now: PipelineProgress): TickOutcome {
    const prev = this.last;
    this.last = now;
    if (prev !== undefined && prev.pending > 0 && now.pending > 0 && now.completed === prev.completed) return "withheld";
    return "ping";
  }
}

export interface WatchdogOptions {
  readonly intervalMs: number;
  readonly progress: () => PipelineProgress;
  readonly notifier: Notifier;
  readonly log: Logger;
}

export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  private readonly checker = new ProgressCheck();

  constructor(private readonly options: WatchdogOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async tick(): Promise<TickOutcome> {
    const progress = this.options.progress();
    const outcome = this.checker.check(progress);
    if (outcome === "ping") await this.options.notifier.notify("WATCHDOG=1");
    else this.options.log.warn({ pending: progress.pending, completed: progress.completed }, "watchdog ping withheld: frames are pending and none completed since the last tick");
    return outcome;
  }
}

/** Half of WATCHDOG_USEC in ms, when the watchdog is on and meant for this process; else undefined. */
export function watchdogIntervalMs(env: Readonly<Record<string, string | undefined>>, pid: number = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC ?? "");
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== "" && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
