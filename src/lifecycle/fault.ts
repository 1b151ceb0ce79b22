/**
 * Fault injection for the crash tests: when the process was started with
 * LAFITED_FAULT=<stage>, reaching faultPoint(<stage>) kills it with SIGKILL
 * on the spot (no cleanup, no flush), like a power cut at that line. The
 * stage names are listed here so the tests and the code agree on them.
 *
 * This is the one place besides src/config/ that reads process.env: it is a
 * test hook, read once at start, and a no-op when unset.
 */
export const FAULT_STAGES = [
  // accept / confirm-defect
  "accept.after-image-write",
  "accept.after-commit",
  // jobs (refresh and retrain share the runner)
  "job.after-start",
  "job.child-mid-body",
  "job.after-body",
  "job.after-move",
  "job.after-register",
  // activation (also reached by auto-promotion and rollback)
  "activate.after-load",
  "activate.after-commit",
  "activate.after-pointer",
] as const;
export type FaultStage = (typeof FAULT_STAGES)[number];

const armed = process.env.LAFITED_FAULT;

/** Kills this process at once if LAFITED_FAULT names `stage`. */
export function faultPoint(stage: FaultStage): void {
  if (armed === stage) process.kill(process.pid, "SIGKILL");
}
