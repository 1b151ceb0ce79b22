/**
 * Where a job's work runs. The daemon forks a child process (lower
 * priority, fewer ONNX threads, its own heap) so Detect keeps its latency
 * and a crash of the body cannot take the daemon down; tests may run the
 * work in process.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { executeJob, type JobResult, type JobSpec, type ProgressFn } from "./job-work.js";
import { ErrorCode } from "../util/errors.js";
import { LafiteError, type ErrorCode as Code } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface JobHooks {
  readonly progress: ProgressFn;
  /** A sign of life from the process doing the work, about every spec.heartbeatMs. */
  readonly heartbeat: () => void;
}

export interface JobLauncher {
  /** Runs the job to its end; rejects with LafiteError on failure or cancellation. */
  run(spec: JobSpec, hooks: JobHooks, signal: AbortSignal, log: Logger): Promise<JobResult>;
}

/** Runs the work in this process; its heartbeat is this process's own timer. */
export const inProcessLauncher: JobLauncher = {
  run: async (spec, hooks, signal, log) => {
    const beat = setInterval(hooks.heartbeat, spec.heartbeatMs);
    beat.unref();
    try {
      return await executeJob(spec, { progress: hooks.progress, signal, log });
    } finally {
      clearInterval(beat);
    }
  },
};

const CHILD = fileURLToPath(new URL("./job-child.js", import.meta.url));

type ChildMessage =
  | { type: "heartbeat" }
  | { type: "ready" }
  | { type: "progress"; done: number; total: number; message: string }
  | { type: "done"; result: JobResult }
  | { type: "failed"; code: Code; message: string };

/** Heartbeats a job process may miss before it counts as hung and is killed. */
export const MISSED_HEARTBEATS = 3;
/**
 * Until it says it is ready a job process is still starting: Node, the
 * pipeline and the ONNX modules load, blocking its event loop and so its
 * heartbeat, for seconds on a loaded box. The watchdog allows at least this
 * long for that.
 */
export const STARTUP_GRACE_MS = 30_000;

export class ChildJobLauncher implements JobLauncher {
  constructor(private readonly options: { nice: number; logLevel: string; killAfterMs?: number; env?: NodeJS.ProcessEnv }) {}

  run(spec: JobSpec, hooks: JobHooks, signal: AbortSignal, log: Logger): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      const child = fork(CHILD, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], ...(this.options.env ? { env: this.options.env } : {}) });
      let outcome: { ok: true; result: JobResult } | { ok: false; err: LafiteError } | undefined;
      let killTimer: NodeJS.Timeout | undefined;
      // Watchdog: a child whose event loop is stuck (a hung native call, an endless loop) stops
      // sending heartbeats; it is killed and the job fails, instead of staying "running" forever.
      let lastSign = performance.now();
      let started = false;
      const watchdog = setInterval(() => {
        const silentMs = performance.now() - lastSign;
        const allowedMs = started ? MISSED_HEARTBEATS * spec.heartbeatMs : Math.max(MISSED_HEARTBEATS * spec.heartbeatMs, STARTUP_GRACE_MS);
        if (silentMs < allowedMs || outcome) return;
        outcome = { ok: false, err: new LafiteError(ErrorCode.INTERNAL, `job process stopped responding (no heartbeat for ${Math.round(silentMs)} ms); killed`) };
        child.kill("SIGKILL");
      }, spec.heartbeatMs);
      watchdog.unref();
      const onAbort = () => {
        child.send({ type: "cancel" });
        // A body that ignores its signal is stopped anyway.
        killTimer = setTimeout(() => child.kill("SIGKILL"), this.options.killAfterMs ?? 10_000);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      child.on("message", (msg: ChildMessage) => {
        lastSign = performance.now();
        if (msg.type === "ready") {
          started = true;
          hooks.heartbeat();
        } else if (msg.type === "heartbeat") hooks.heartbeat();
        else if (msg.type === "progress") hooks.progress(msg.done, msg.total, msg.message);
        else if (msg.type === "done") outcome = { ok: true, result: msg.result };
        else outcome = { ok: false, err: new LafiteError(msg.code, msg.message) };
      });
      child.on("error", (err) => {
        outcome ??= { ok: false, err: new LafiteError(ErrorCode.INTERNAL, `job process failed to start: ${err.message}`, { cause: err }) };
      });
      child.on("exit", (code, sig) => {
        signal.removeEventListener("abort", onAbort);
        clearTimeout(killTimer);
        clearInterval(watchdog);
        if (outcome?.ok) return resolve(outcome.result);
        if (outcome) return reject(outcome.err);
        if (signal.aborted) return reject(new LafiteError(ErrorCode.CANCELLED, "job cancelled"));
        reject(new LafiteError(ErrorCode.INTERNAL, `job process died (${sig ? `signal ${sig}` : `exit code ${code}`}) before reporting`));
      });
      log.debug({ pid: child.pid }, "job process started");
      child.send({ type: "run", spec, nice: this.options.nice, logLevel: this.options.logLevel });
    });
  }
}
