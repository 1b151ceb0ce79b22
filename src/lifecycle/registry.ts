/**
 * The model registry: every model version the daemon knows, as immutable
 * bundle folders under `<dataDir>/models/<version>/`, with a state
 *   candidate → active → previous → retired → pruned, or candidate → rejected
 * that changes only through `transition()`, which writes the new state and
 * its reason (and the gate's numbers, when there are some) in one
 * transaction. Everything else reads.
 *
 * The `models/ACTIVE` file names the active version for people and scripts;
 * it is written (atomically, renamed over) after the transaction commits, and
 * rewritten from the database at start if a crash left it behind.
 */
import { join } from "node:path";
import type { StateDb } from "./state-db.js";
import { isoTime } from "./state-db.js";
import { writeFileAtomic } from "../util/atomic-file.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export const MODEL_STATES = ["active", "candidate", "previous", "rejected", "retired", "pruned"] as const;
export type ModelState = (typeof MODEL_STATES)[number];

export interface GateDecision {
  readonly passed: boolean;
  /** One human-readable line per check. */
  readonly checks: readonly string[];
  readonly details: Record<string, unknown>;
  readonly decidedAt: string;
}

export interface DataSnapshot {
  /** Ledger ids of the accepted normals the version was made from. */
  readonly accepted: readonly number[];
  /** SHA-256 over the "<id> <image sha256>" lines, so a snapshot can be checked against the ledger. */
  readonly sha256: string;
}

export interface ModelVersionRecord {
  readonly version: string;
  readonly state: ModelState;
  readonly stateReason: string;
  /** Absolute bundle folder. */
  readonly dir: string;
  readonly parent: string | null;
  readonly jobId: number | null;
  /** Empty for an imported version. */
  readonly dataSnapshot: Partial<DataSnapshot>;
  readonly metrics: Record<string, unknown>;
  readonly gate: GateDecision | null;
  readonly createdAt: string;
  readonly stateChangedAt: string;
}

export interface TransitionRecord {
  readonly version: string;
  readonly from: ModelState | null;
  readonly to: ModelState;
  readonly reason: string;
  readonly at: string;
}

interface Row {
  version: string;
  state: ModelState;
  state_reason: string;
  dir: string;
  parent: string | null;
  job_id: number | null;
  data_snapshot: string;
  metrics: string;
  gate: string | null;
  created_at: string;
  state_changed_at: string;
}

/** Version strings name folders: letters, digits, '.', '_', '-', not starting with '.'. */
export function checkVersionName(version: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(version)) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `model version '${version}' cannot name a folder (letters, digits, '.', '_', '-'; not starting with '.')`);
  }
  return version;
}

export class ModelRegistry {
  readonly root: string;

  constructor(
    private readonly db: StateDb,
    dataDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.root = join(dataDir, "models");
  }

  /** Where a version's folder lives. */
  dirOf(version: string): string {
    return join(this.root, checkVersionName(version));
  }

  /**
   * THE state change of a model version: writes the new state, its reason
   * and (optionally) the gate decision, plus a transition record, in one
   * transaction (a savepoint when the caller already holds one).
   */
  transition(version: string, to: ModelState, reason: string, extra: { gate?: GateDecision } = {}): void {
    this.db.transaction(() => {
      const cur = this.get(version);
      if (!cur) throw new LafiteError(ErrorCode.NOT_FOUND, `no model version '${version}'`);
      const at = isoTime(this.now());
      this.db
        .prepare("UPDATE model_versions SET state = ?, state_reason = ?, state_changed_at = ?, gate = COALESCE(?, gate) WHERE version = ?")
        .run(to, reason, at, extra.gate ? JSON.stringify(extra.gate) : null, version);
      this.db.prepare("INSERT INTO transitions (version, from_state, to_state, reason, at) VALUES (?, ?, ?, ?, ?)").run(version, cur.state, to, reason, at);
    })();
  }

  /** Records a new version (its folder must already be complete) in its first state. */
  register(v: { version: string; state: "active" | "candidate"; reason: string; parent: string | null; jobId: number | null; dataSnapshot: DataSnapshot | Record<string, never>; metrics: Record<string, unknown> }): ModelVersionRecord {
    checkVersionName(v.version);
    return this.db.transaction(() => {
      if (this.get(v.version)) throw new LafiteError(ErrorCode.CONFLICT, `model version '${v.version}' already exists`);
      const at = isoTime(this.now());
      const seq = (this.db.prepare("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM model_versions").get() as { n: number }).n;
      this.db
        .prepare(
          `INSERT INTO model_versions (version, state, state_reason, dir, parent, job_id, data_snapshot, metrics, created_at, state_changed_at, seq)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(v.version, v.state, v.reason, v.version, v.parent, v.jobId, JSON.stringify(v.dataSnapshot), JSON.stringify(v.metrics), at, at, seq);
      this.db.prepare("INSERT INTO transitions (version, from_state, to_state, reason, at) VALUES (?, NULL, ?, ?, ?)").run(v.version, v.state, v.reason, at);
      return this.get(v.version)!;
    })();
  }

  get(version: string): ModelVersionRecord | undefined {
    const row = this.db.prepare("SELECT * FROM model_versions WHERE version = ?").get(version) as Row | undefined;
    return row && this.toRecord(row);
  }

  /** Newest first. */
  list(): ModelVersionRecord[] {
    return (this.db.prepare("SELECT * FROM model_versions ORDER BY seq DESC").all() as Row[]).map((r) => this.toRecord(r));
  }

  inState(state: ModelState): ModelVersionRecord | undefined {
    const row = this.db.prepare("SELECT * FROM model_versions WHERE state = ? ORDER BY seq DESC LIMIT 1").get(state) as Row | undefined;
    return row && this.toRecord(row);
  }

  active(): ModelVersionRecord | undefined {
    return this.inState("active");
  }

  previous(): ModelVersionRecord | undefined {
    return this.inState("previous");
  }

  transitions(version?: string): TransitionRecord[] {
    const rows = (version === undefined
      ? this.db.prepare("SELECT * FROM transitions ORDER BY id").all()
      : this.db.prepare("SELECT * FROM transitions WHERE version = ? ORDER BY id").all(version)) as { version: string; from_state: ModelState | null; to_state: ModelState; reason: string; at: string }[];
    return rows.map((r) => ({ version: r.version, from: r.from_state, to: r.to_state, reason: r.reason, at: r.at }));
  }

  /**
   * Makes `version` active in one transaction: the active one becomes
   * previous, the previous one retired. With `rollback`, the active one
   * becomes previous and the previous one active (a swap).
   */
  activate(version: string, reason: string): { active: string; previous: string | null } {
    return this.db.transaction(() => {
      const target = this.get(version);
      if (!target) throw new LafiteError(ErrorCode.NOT_FOUND, `no model version '${version}'`);
      if (target.state === "pruned") throw new LafiteError(ErrorCode.CONFLICT, `model version '${version}' was pruned (its folder is gone)`);
      const cur = this.active();
      if (cur?.version === version) return { active: version, previous: this.previous()?.version ?? null };
      const prev = this.previous();
      if (prev && prev.version !== version) this.transition(prev.version, "retired", `replaced as previous by ${cur?.version ?? "(none)"}`);
      if (cur) this.transition(cur.version, "previous", `replaced by ${version}`);
      this.transition(version, "active", reason);
      const counts = this.db.prepare("SELECT state, COUNT(*) AS n FROM model_versions WHERE state IN ('active', 'previous') GROUP BY state").all() as { state: string; n: number }[];
      if (counts.some((c) => c.n > 1)) throw new LafiteError(ErrorCode.INTERNAL, `registry invariant broken: ${JSON.stringify(counts)}`);
      return { active: version, previous: cur?.version ?? null };
    })();
  }

  /** Folders of versions beyond the newest `keep` that are neither active nor previous, marked pruned. */
  prune(keep: number): string[] {
    return this.db.transaction(() => {
      const candidates = this.list().filter((v) => v.state !== "active" && v.state !== "previous" && v.state !== "pruned");
      // A candidate still waiting for ActivateModel counts towards `keep` like any other.
      const drop = candidates.slice(keep);
      for (const v of drop) this.transition(v.version, "pruned", `pruned: more than ${keep} kept versions besides active and previous`);
      return drop.map((v) => v.dir);
    })();
  }

  /** Writes models/ACTIVE (atomically) to name the active version. */
  async writeActivePointer(version: string): Promise<void> {
    await writeFileAtomic(join(this.root, "ACTIVE"), `${version}\n`);
  }

  private toRecord(r: Row): ModelVersionRecord {
    return {
      version: r.version,
      state: r.state,
      stateReason: r.state_reason,
      dir: join(this.root, r.dir),
      parent: r.parent,
      jobId: r.job_id,
      dataSnapshot: JSON.parse(r.data_snapshot) as DataSnapshot,
      metrics: JSON.parse(r.metrics) as Record<string, unknown>,
      gate: r.gate ? (JSON.parse(r.gate) as GateDecision) : null,
      createdAt: r.created_at,
      stateChangedAt: r.state_changed_at,
    };
  }
}
