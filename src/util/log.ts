/**
 * Structured logging with pino: one JSON line per event on stderr, level
 * from config. Per-frame events log at debug, so info stays quiet on a line
 * running at camera speed. Child loggers carry per-stream context.
 */
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export interface LogOptions {
  readonly level: string;
  /** Where lines go; default stderr, written synchronously so nothing is lost at exit. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

export function createLogger(options: LogOptions): Logger {
  const dest = options.destination ?? pino.destination({ dest: 2, sync: true });
  return pino({ level: options.level, name: options.name ?? "lafited", base: { pid: process.pid } }, dest);
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
