/**
 * The daemon's process life around a LafitedServer: signals, the ready line,
 * and the exit code. SIGTERM/SIGINT drain and exit 0 (a second one exits at
 * once); SIGHUP reloads config and model. Shared by `lafite serve` and the
 * process-level tests, which run it with a fake detector.
 */
import { LafitedServer, type LafitedServerOptions } from "./server.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import { notifierFromEnv } from "./systemd/notify.js";
import { Watchdog, watchdogIntervalMs } from "./systemd/watchdog.js";

export interface DaemonEnvironment {
  /** The process environment, for systemd's NOTIFY_SOCKET / WATCHDOG_USEC (src/config/env.ts SYSTEMD_ENV). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Runs until stopped by a signal; resolves with the exit code. Throws if no model can be loaded. */
export async function runDaemon(options: LafitedServerOptions & DaemonEnvironment): Promise<number> {
  const { log, config } = options;
  const server = new LafitedServer(options);
  // systemd Type=notify: READY=1 once serving, WATCHDOG=1 while the pipeline makes progress, STOPPING=1 on the way out.
  const notifier = notifierFromEnv(options.env ?? {}, log);
  const watchdogMs = watchdogIntervalMs(options.env ?? {});
  const watchdog =
    notifier && watchdogMs !== undefined
      ? new Watchdog({
          intervalMs: watchdogMs,
          notifier,
          log,
          progress: () => {
            const q = server.stats.queue;
            return { pending: q.running + q.waiting, completed: q.completed };
          },
        })
      : undefined;
  let signals = 0;
  const onStop = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal: sig }, "second stop signal: exiting at once");
      process.exit(130);
    }
    log.info({ signal: sig }, "stop requested");
    watchdog?.stop();
    void notifier?.notify("STOPPING=1");
    void server.shutdown();
  };
  const onHup = () => {
    log.info({ signal: "SIGHUP" }, "reload requested");
    void server.reload();
  };
  process.on("SIGTERM", onStop);
  process.on("SIGINT", onStop);
  process.on("SIGHUP", onHup);
  try {
    const port = await server.listen();
    try {
      const info = await server.loadModel();
      log.info({ listen: config.listen, port, model: info.version, mode: info.mode, ep: info.executionProvider }, "ready");
      await notifier?.notify("READY=1", `STATUS=serving model ${info.version} on port ${port}`);
      watchdog?.start();
    } catch (err) {
      if (server.state === "stopping" || server.state === "stopped") {
        await server.stopped;
        return 0;
      }
      log.fatal({ err }, "cannot load a model");
      await server.shutdown(0);
      throw err instanceof LafiteError ? err : new LafiteError(ErrorCode.INTERNAL, `cannot load a model: ${(err as Error).message}`, { cause: err });
    }
    await server.stopped;
    watchdog?.stop();
    // A stuck native handle must not keep a stopped daemon alive.
    setTimeout(() => process.exit(0), 2000).unref();
    return 0;
  } finally {
    process.off("SIGTERM", onStop);
    process.off("SIGINT", onStop);
    process.off("SIGHUP", onHup);
  }
}
