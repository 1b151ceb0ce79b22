/**
 * Job records: what ran, who owned it (the daemon's pid), its last sign of
 * life (heartbeat), its progress and its outcome. A job is `running` only
 * while its owner lives; a record left `running` by a dead owner is marked
 * `abandoned` at the next start (reconcile.ts), never left silently running.
 * At most one job runs at a time (a partial unique index enforces it).
 */
import { join } from "node:path";
import type { StateDb } from "./state-db.js";
import { isoTime } from "./state-db.js";
import type { DataSnapshot } from "./registry.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export const JOB_KINDS = ["refresh", "retrain"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobState = "running" | "succeeded" | "failed" | "abandoned" | "cancelled";

export interface JobRecord {
  readonly id: number;
  readonly kind: JobKind;
  readonly state: JobState;
  readonly trigger: string;
  readonly ownerPid: number;
  readonly startedAt: string;
  readonly heartbeatAt: string;
  readonly finishedAt: string | null;
  readonly done: number;
  readonly total: number;
  readonly message: string;
  /** Where the job writes its candidate bundle (deleted unless it succeeds). */
  readonly outDir: string;
  readonly parentVersion: string;
  readonly snapshot: DataSnapshot;
  readonly resultVersion: string | null;
  readonly decision: string;
}

interface Row {
  id: number;
  kind: JobKind;
  state: JobState;
  trigger: string;
  owner_pid: number;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  done: number;
  total: number;
  message: string;
  out_dir: string;
  parent_version: string;
  snapshot: string;
  result_version: string | null;
  decision: string;
}

function toRecord(r: Row): JobRecord {
  return {
    id: r.id,
    kind: r.kind,
    state: r.state,
    trigger: r.trigger,
    ownerPid: r.owner_pid,
    startedAt: r.started_at,
    heartbeatAt: r.heartbeat_at,
    finishedAt: r.finished_at,
    done: r.done,
    total: r.total,
    message: r.message,
    outDir: r.out_dir,
    parentVersion: r.parent_version,
    snapshot: JSON.parse(r.snapshot) as DataSnapshot,
    resultVersion: r.result_version,
    decision: r.decision,
  };
}

export class JobStore {
  /** Jobs write candidates here, one folder per job; nothing in it is a model version. */
  readonly stagingRoot: string;

  constructor(
    private readonly db: StateDb,
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.stagingRoot = join(dataDir, "models", ".staging");
  }

  /** Records a new running job; CONFLICT if one is running. */
  start(j: { kind: JobKind; trigger: string; ownerPid: number; parentVersion: string; snapshot: DataSnapshot }): JobRecord {
    return this.db.transaction(() => {
      const running = this.running();
      if (running) throw new LafiteError(ErrorCode.CONFLICT, `job ${running.id} (${running.kind}) is still running; jobs never overlap`);
      const at = isoTime(this.now());
      const info = this.db
        .prepare(`INSERT INTO jobs (kind, state, trigger, owner_pid, started_at, heartbeat_at, out_dir, parent_version, snapshot, message) VALUES (?, 'running', ?, ?, ?, ?, '', ?, ?, 'starting')`)
        .run(j.kind, j.trigger, j.ownerPid, at, at, j.parentVersion, JSON.stringify(j.snapshot));
      const id = Number(info.lastInsertRowid);
      this.db.prepare("UPDATE jobs SET out_dir = ? WHERE id = ?").run(join(this.stagingRoot, `job-${id}`), id);
      return this.get(id)!;
    }).immediate();
  }

  /** A sign of life, with progress when there is some. */
  heartbeat(id: number, progress?: { done: number; total: number; message: string }): void {
    const at = isoTime(this.now());
    if (progress) this.db.prepare("UPDATE jobs SET heartbeat_at = ?, done = ?, total = ?, message = ? WHERE id = ? AND state = 'running'").run(at, progress.done, progress.total, progress.message, id);
    else this.db.prepare("UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND state = 'running'").run(at, id);
  }

  /** Ends a running job with its outcome (no-op if it already ended). */
  finish(id: number, state: Exclude<JobState, "running">, outcome: { message: string; resultVersion?: string | null; decision?: string }): JobRecord {
    const at = isoTime(this.now());
    this.db
      .prepare("UPDATE jobs SET state = ?, finished_at = ?, heartbeat_at = ?, message = ?, result_version = COALESCE(?, result_version), decision = COALESCE(?, decision) WHERE id = ? AND state = 'running'")
      .run(state, at, at, outcome.message, outcome.resultVersion ?? null, outcome.decision ?? null, id);
    return this.get(id)!;
  }

  /** Updates a finished job's promotion decision (manual activation later). */
  setDecision(id: number, decision: string): void {
    this.db.prepare("UPDATE jobs SET decision = ? WHERE id = ?").run(decision, id);
  }

  get(id: number): JobRecord | undefined {
    const row = this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as Row | undefined;
    return row && toRecord(row);
  }

  running(): JobRecord | undefined {
    const row = this.db.prepare("SELECT * FROM jobs WHERE state = 'running'").get() as Row | undefined;
    return row && toRecord(row);
  }

  /** Newest first. */
  list(limit = 0): JobRecord[] {
    const sql = `SELECT * FROM jobs ORDER BY id DESC ${limit > 0 ? `LIMIT ${Math.floor(limit)}` : ""}`;
    return (this.db.prepare(sql).all() as Row[]).map(toRecord);
  }
}
