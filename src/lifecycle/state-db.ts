/**
 * The lifecycle's one place of state: SQLite (better-sqlite3) in
 * `<dataDir>/state.db`, WAL mode with synchronous=FULL so that a committed
 * transaction survives a power cut before the caller acknowledges anything.
 * Holds the ledger of accepted and confirmed frames, the model registry with
 * every state transition, and the job records. Everything else converges on
 * what is written here (see reconcile.ts).
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LafiteError, ErrorCode } from "../util/errors.js";

export type StateDb = Database.Database;

/** Schema version 1. New versions append statements; never edit a released one. */
const SCHEMA: readonly string[] = [
  `CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('normal', 'defect')),
    sha256 TEXT NOT NULL,
    file TEXT NOT NULL,
    class_tag TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    frame_id TEXT NOT NULL DEFAULT '',
    score REAL NOT NULL,
    threshold REAL NOT NULL,
    model_version TEXT NOT NULL,
    forced INTEGER NOT NULL DEFAULT 0,
    holdout INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    removed_at TEXT,
    removed_by TEXT
  )`,
  // One live record per image: duplicates are found by hash, whatever their kind.
  `CREATE UNIQUE INDEX frames_live_sha ON frames (sha256) WHERE removed_at IS NULL`,
  `CREATE INDEX frames_created ON frames (kind, created_at)`,
  `CREATE TABLE model_versions (
    version TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('active', 'candidate', 'previous', 'rejected', 'retired', 'pruned')),
    state_reason TEXT NOT NULL,
    dir TEXT NOT NULL,
    parent TEXT,
    job_id INTEGER,
    data_snapshot TEXT NOT NULL DEFAULT '{}',
    metrics TEXT NOT NULL DEFAULT '{}',
    gate TEXT,
    created_at TEXT NOT NULL,
    state_changed_at TEXT NOT NULL,
    seq INTEGER NOT NULL
  )`,
  // "At most one active and one previous" is checked at the end of each activation
  // (registry.ts): a unique index would trip in the middle of a rollback's swap.
  `CREATE TABLE transitions (
    id INTEGER PRIMARY KEY,
    version TEXT NOT NULL REFERENCES model_versions (version),
    from_state TEXT,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
  )`,
  `CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('refresh', 'retrain')),
    state TEXT NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'abandoned', 'cancelled')),
    trigger TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL,
    finished_at TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    message TEXT NOT NULL DEFAULT '',
    out_dir TEXT NOT NULL,
    parent_version TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    result_version TEXT,
    decision TEXT NOT NULL DEFAULT ''
  )`,
  `CREATE UNIQUE INDEX one_running_job ON jobs (state) WHERE state = 'running'`,
];

export function openStateDb(dataDir: string): StateDb {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, "state.db");
  let db: StateDb;
  try {
    db = new Database(file);
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `cannot open the state database ${file} (config key dataDir): ${(err as Error).message}`, { cause: err });
  }
  db.pragma("journal_mode = WAL");
  // FULL: a commit is on disk before it returns, so an acknowledgement sent after it is never lost.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > 1) {
    db.close();
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `${file} has schema version ${version}, newer than this lafited supports (1); upgrade lafited`);
  }
  if (version === 0) {
    db.transaction(() => {
      for (const stmt of SCHEMA) db.exec(stmt);
      db.pragma("user_version = 1");
    })();
  }
  return db;
}

/** RFC 3339 UTC with milliseconds. */
export function isoTime(d: Date): string {
  return d.toISOString();
}
