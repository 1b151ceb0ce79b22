/**
 * Cron schedules for jobs, one per job kind (config jobs.<kind>.schedule,
 * null = off). The scheduler is injected: the daemon uses node-cron, tests a
 * manual one they fire themselves, so no test waits on a clock.
 */
import cron from "node-cron";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface ScheduledTask {
  stop(): void;
}

export interface Scheduler {
  /** Calls `fn` at each tick of `expression`; throws INVALID_CONFIG for a bad expression. */
  schedule(expression: string, name: string, fn: () => void): ScheduledTask;
}

export const nodeCronScheduler: Scheduler = {
  schedule(expression, name, fn) {
    if (!cron.validate(expression)) throw new LafiteError(ErrorCode.INVALID_CONFIG, `jobs.${name}.schedule: '${expression}' is not a valid cron expression`);
    const task = cron.schedule(expression, fn, { name, noOverlap: true });
    return { stop: () => void task.stop() };
  },
};

/** A scheduler driven by hand: fire(name) runs that schedule's callback once. */
export class ManualScheduler implements Scheduler {
  readonly tasks = new Map<string, { expression: string; fn: () => void }>();

  schedule(expression: string, name: string, fn: () => void): ScheduledTask {
    this.tasks.set(name, { expression, fn });
    return { stop: () => void this.tasks.delete(name) };
  }

  fire(name: string): void {
    const t = this.tasks.get(name);
    if (!t) throw new Error(`no schedule named ${name}`);
    t.fn();
  }
}
