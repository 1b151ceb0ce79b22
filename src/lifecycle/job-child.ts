/**
 * Entry point of a job's child process (forked by ChildJobLauncher): lowers
 * its own priority, runs one job and reports over IPC. It exits when the
 * daemon goes away (the IPC channel closes), so a killed daemon leaves no
 * orphan working on a job nobody will register.
 *
 * Messages in:  {type: "run", spec, nice} | {type: "cancel"}
 * Messages out: {type: "heartbeat"} (every spec.heartbeatMs, from this process's
 *   event loop: it stops if the loop is stuck) | {type: "ready"} (the job's
 *   modules are loaded; the watchdog's start-up grace ends) | {type: "progress",
 *   done, total, message} | {type: "done", result} | {type: "failed", code, message}
 */
import { setPriority } from "node:os";
import { executeJob, type JobSpec } from "./job-work.js";
import { createLogger } from "../util/log.js";
import { errorCodeOf } from "../util/errors.js";

type Incoming = { type: "run"; spec: JobSpec; nice: number; logLevel: string } | { type: "cancel" };

if (process.send) {
  const controller = new AbortController();
  const send = (msg: unknown) => process.send?.(msg);
  process.on("disconnect", () => process.exit(1));
  process.on("message", (msg: Incoming) => {
    if (msg.type === "cancel") {
      controller.abort();
      return;
    }
    const log = createLogger({ level: msg.logLevel, name: "lafited-job" }).child({ job: msg.spec.jobId, kind: msg.spec.kind });
    setInterval(() => send({ type: "heartbeat" }), msg.spec.heartbeatMs).unref();
    try {
      setPriority(0, msg.nice);
    } catch (err) {
      // A sandbox may refuse (the systemd unit allows setpriority); the job still runs, at normal priority.
      log.warn({ err: (err as Error).message, nice: msg.nice }, "cannot lower the job's priority; it runs at normal priority");
    }
    executeJob(msg.spec, { signal: controller.signal, log, ready: () => send({ type: "ready" }), progress: (done, total, message) => send({ type: "progress", done, total, message }) }).then(
      (result) => {
        send({ type: "done", result });
        process.disconnect();
      },
      (err: unknown) => {
        send({ type: "failed", code: errorCodeOf(err), message: (err as Error).message });
        process.disconnect();
      },
    );
  });
}
