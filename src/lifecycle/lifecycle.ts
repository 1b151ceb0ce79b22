/**
 * The lifecycle controller: the one object the daemon holds for model
 * administration. State lives in SQLite (state-db.ts); this class reads the
 * desired state, compares it with what is on disk and in service, and takes
 * one idempotent step at a time. Opening it runs reconciliation (a crash is
 * recovered by the same path as a normal start).
 *
 *   accept / confirm  → Ledger (image fsynced, row committed, then the answer)
 *   runJob            → job record → JobLauncher (child process): body + gate
 *                       → candidate folder renamed in → registered with its gate
 *                       → auto-promotion (config jobs.<kind>.promotion)
 *   activate/rollback → load + check the new model → commit the transition →
 *                       ACTIVE pointer → swap it into service (in-flight frames
 *                       finish on the old one) → prune old versions
 */
import { EventEmitter } from "node:events";
import { readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { openStateDb, type StateDb } from "./state-db.js";
import { ImageStore } from "./image-store.js";
import { Ledger, type FrameRecord, type LedgerPolicy } from "./ledger.js";
import { ModelRegistry, type DataSnapshot, type ModelVersionRecord } from "./registry.js";
import { JobStore, type JobKind, type JobRecord, JOB_KINDS } from "./job-records.js";
import type { JobLauncher } from "./job-launcher.js";
import type { JobResult, JobSpec } from "./job-work.js";
import type { GateMemo } from "./gate-memo.js";
import { nodeCronScheduler, type Scheduler, type ScheduledTask } from "./scheduler.js";
import { faultPoint } from "./fault.js";
import { filesOf, readBundle, writeBundle, type BundleManifest } from "../model/bundle.js";
import { fsyncDir } from "../util/atomic-file.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import type { Config } from "../config/schema.js";

/** A model loaded and checked, not yet in service. */
export interface LoadedModel {
  readonly version: string;
  /** Puts it into service (frames in flight finish on the old model). */
  serve(): void;
  /** Closes it without serving it. */
  discard(): Promise<void>;
}

/** How the lifecycle puts models into service (the gRPC server, or a test double). */
export interface ModelHost {
  load(bundleDir: string): Promise<LoadedModel>;
}

export interface LifecycleOptions {
  readonly dataDir: string;
  readonly config: Pick<Config, "ledger" | "promotion" | "jobs" | "log">;
  readonly log: Logger;
  readonly launcher: JobLauncher;
  readonly scheduler?: Scheduler;
  readonly now?: () => Date;
  /** Module of job bodies (tests); default ./job-bodies.js. */
  readonly bodyModule?: string;
}

export interface JobHandle {
  readonly record: JobRecord;
  /** Settles when the job has ended and its outcome is recorded. */
  readonly finished: Promise<JobRecord>;
}

/**
 * Model versions whose gate memos the daemon keeps: the active one, the last candidate (active next if promoted, by
 * hand too), and the previous active one (back after a rollback). A memo holds a few thousand numbers.
 */
export const GATE_MEMO_VERSIONS = 3;

export function snapshotOf(frames: readonly FrameRecord[]): DataSnapshot {
  const h = createHash("sha256");
  for (const f of frames) h.update(`${f.id} ${f.sha256}\n`);
  return { accepted: frames.map((f) => f.id), sha256: h.digest("hex") };
}

export class Lifecycle extends EventEmitter<{ job: [JobRecord]; models: [] }> {
  readonly db: StateDb;
  readonly images: ImageStore;
  readonly ledger: Ledger;
  readonly registry: ModelRegistry;
  readonly jobs: JobStore;
  private host: ModelHost | undefined;
  private activation: Promise<unknown> = Promise.resolve();
  private current: { id: number; controller: AbortController; finished: Promise<JobRecord> } | undefined;
  private tasks: ScheduledTask[] = [];
  private closed = false;
  private readonly now: () => Date;
  private readonly log: Logger;
  /**
   * What the last gates measured of each model version (gate-memo.ts), the most recent last: the active model's is
   * handed to the next job's gate, which then scores only what is new to it. In memory only.
   */
  private readonly gateMemos = new Map<string, GateMemo>();

  private constructor(private readonly options: LifecycleOptions) {
    super();
    this.now = options.now ?? (() => new Date());
    this.log = options.log.child({ component: "lifecycle" });
    this.db = openStateDb(options.dataDir);
    this.images = new ImageStore(options.dataDir);
    const policy: LedgerPolicy = options.config.ledger;
    this.ledger = new Ledger(this.db, this.images, policy, this.now);
    this.registry = new ModelRegistry(this.db, options.dataDir, this.now);
    this.jobs = new JobStore(this.db, options.dataDir, this.now);
  }

  /** Opens the state in dataDir and reconciles it with the disk. */
  static async open(options: LifecycleOptions): Promise<Lifecycle> {
    const lc = new Lifecycle(options);
    try {
      await lc.reconcile();
    } catch (err) {
      lc.db.close();
      throw err;
    }
    return lc;
  }

  attachHost(host: ModelHost): void {
    this.host = host;
  }

  /**
   * Start-up convergence: a job left running by a dead owner is abandoned and
   * its output deleted; folders that are no registered version (a crash
   * between writing and registering) are deleted; pruned versions' folders
   * are deleted; the ACTIVE pointer is rewritten from the database; image
   * files no record names are swept.
   */
  private async reconcile(): Promise<void> {
    const heartbeatMs = this.options.config.jobs.heartbeatMs;
    for (const job of this.jobs.list().filter((j) => j.state === "running")) {
      const age = this.now().getTime() - Date.parse(job.heartbeatAt);
      if (job.ownerPid !== process.pid && pidAlive(job.ownerPid) && age < 3 * heartbeatMs) {
        throw new LafiteError(ErrorCode.INVALID_CONFIG, `dataDir ${this.options.dataDir} is in use: job ${job.id} of live process ${job.ownerPid} heartbeat ${Math.round(age / 1000)} s ago; one daemon per dataDir`);
      }
      await rm(job.outDir, { recursive: true, force: true });
      this.jobs.finish(job.id, "abandoned", { message: `abandoned at start: owner pid ${job.ownerPid} stopped (last heartbeat ${job.heartbeatAt}); its partial output was deleted` });
      this.log.warn({ job: job.id, kind: job.kind, ownerPid: job.ownerPid }, "abandoned a job whose owner stopped");
    }
    await rm(this.jobs.stagingRoot, { recursive: true, force: true });
    const known = new Map(this.registry.list().map((v) => [v.dir, v] as const));
    for (const name of await readdir(this.registry.root).catch(() => [] as string[])) {
      if (name === "ACTIVE" || name === ".staging") continue;
      const dir = join(this.registry.root, name);
      const rec = known.get(dir);
      if (rec && rec.state !== "pruned") continue;
      await rm(dir, { recursive: true, force: true });
      this.log.warn({ dir, state: rec?.state ?? "unregistered" }, "deleted a model folder that is no live version");
    }
    for (const job of this.jobs.list().filter((j) => j.decision === "activating")) {
      const v = job.resultVersion ? this.registry.get(job.resultVersion) : undefined;
      this.jobs.setDecision(job.id, v?.state === "active" ? "activated" : "interrupted before activation; waiting for ActivateModel");
    }
    const active = this.registry.active();
    if (active) {
      const pointer = await readFile(join(this.registry.root, "ACTIVE"), "utf8").catch(() => "");
      if (pointer.trim() !== active.version) await this.registry.writeActivePointer(active.version);
    }
    const swept = await this.images.sweep(this.ledger.referencedFiles());
    if (swept > 0) this.log.warn({ files: swept }, "deleted image files no ledger record names (writes interrupted before their commit)");
  }

  /** On first start: imports `source()` (a bundle folder) as the first active version. No-op once a version is active. */
  async importInitial(source: () => Promise<string>): Promise<ModelVersionRecord> {
    const existing = this.registry.active();
    if (existing) return existing;
    const dir = await source();
    const bundle = await readBundle(dir);
    const { files: _hashes, ...manifest } = bundle.manifest;
    const files = filesOf(bundle);
    const dest = this.registry.dirOf(manifest.version);
    // A leftover folder of an interrupted import is not a version: replace it.
    await writeBundle(dest, manifest, files, true);
    const rec = this.registry.register({ version: manifest.version, state: "active", reason: `imported from ${dir} on first start`, parent: null, jobId: null, dataSnapshot: {}, metrics: manifest.metrics });
    await this.registry.writeActivePointer(rec.version);
    this.log.info({ version: rec.version, from: dir }, "imported the first model version");
    this.emit("models");
    return rec;
  }

  /**
   * Loads the active version with `load`. If it fails to load and a previous
   * version exists, the active one is rejected and the previous one restored
   * (both transitions in one transaction), then loading is tried again.
   */
  loadActive<T>(load: (bundleDir: string, version: string) => Promise<T>): Promise<T> {
    // Serialized with activations: a SIGHUP reload that read the old active version
    // must not finish after an activation and swap the old model back in.
    return this.serialized(async () => {
      for (;;) {
        const active = this.registry.active();
        if (!active) throw new LafiteError(ErrorCode.NO_MODEL, "no active model version in the registry");
        try {
          return await load(active.dir, active.version);
        } catch (err) {
          const prev = this.registry.previous();
          if (!prev) throw err;
          const msg = (err as Error).message;
          this.db.transaction(() => {
            this.registry.transition(active.version, "rejected", `failed to load: ${msg}`);
            this.registry.transition(prev.version, "active", `restored: ${active.version} failed to load`);
          })();
          await this.registry.writeActivePointer(prev.version);
          this.log.error({ err, version: active.version, restored: prev.version }, "the active version failed to load; restored the previous one");
        }
      }
    });
  }

  /** Runs `fn` after every earlier activation or load has settled. */
  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.activation.then(fn);
    this.activation = run.catch(() => undefined);
    return run;
  }

  /** Serves `version`: load and check it, commit, switch the pointer, swap it in, prune. */
  activate(version: string, options: { reason: string; force?: boolean }): Promise<{ active: string; previous: string | null }> {
    return this.serialized(async () => {
      const host = this.host;
      if (!host) throw new LafiteError(ErrorCode.NO_MODEL, "no model host attached");
      const rec = this.registry.get(version);
      if (!rec) throw new LafiteError(ErrorCode.NOT_FOUND, `no model version '${version}'`);
      if (rec.state === "active") return { active: version, previous: this.registry.previous()?.version ?? null };
      if (rec.state === "pruned") throw new LafiteError(ErrorCode.CONFLICT, `model version '${version}' was pruned; its folder is gone`);
      if (rec.state === "rejected" && !options.force) throw new LafiteError(ErrorCode.CONFLICT, `model version '${version}' was rejected (${rec.stateReason}); pass force to activate it anyway`);
      const loaded = await host.load(rec.dir);
      faultPoint("activate.after-load");
      let result: { active: string; previous: string | null };
      try {
        if (loaded.version !== version) throw new LafiteError(ErrorCode.BAD_BUNDLE, `folder of version '${version}' holds version '${loaded.version}'`);
        result = this.registry.activate(version, options.reason);
      } catch (err) {
        await loaded.discard();
        throw err;
      }
      faultPoint("activate.after-commit");
      if (rec.jobId !== null && this.jobs.get(rec.jobId)?.decision === "waiting for ActivateModel") this.jobs.setDecision(rec.jobId, `activated: ${options.reason}`);
      await this.registry.writeActivePointer(version);
      faultPoint("activate.after-pointer");
      loaded.serve();
      this.log.info({ version, previous: result.previous, reason: options.reason }, "model version activated");
      await this.prune();
      this.emit("models");
      return result;
    });
  }

  /** Serves the previous version again; the one rolled back from becomes previous. */
  rollback(operator = ""): Promise<{ active: string; previous: string | null }> {
    const prev = this.registry.previous();
    if (!prev) throw new LafiteError(ErrorCode.CONFLICT, "there is no previous version to roll back to");
    const from = this.registry.active()?.version ?? "(none)";
    return this.activate(prev.version, { reason: `rollback from ${from}${operator ? ` by ${operator}` : ""}`, force: true });
  }

  /** Deletes the folders of versions beyond promotion.keepVersions (never active or previous). */
  private async prune(): Promise<void> {
    for (const dir of this.registry.prune(this.options.config.promotion.keepVersions)) {
      await rm(dir, { recursive: true, force: true });
      this.log.info({ dir }, "pruned an old model version");
    }
  }

  /** Starts a job (CONFLICT if one runs); the handle's `finished` settles once its outcome is recorded. */
  runJob(kind: JobKind, trigger: "api" | "cron" = "api"): JobHandle {
    if (this.closed) throw new LafiteError(ErrorCode.SHUTTING_DOWN, "the daemon is shutting down");
    if (!(JOB_KINDS as readonly string[]).includes(kind)) throw new LafiteError(ErrorCode.INVALID_INPUT, `unknown job kind '${String(kind)}' (refresh or retrain)`);
    const active = this.registry.active();
    if (!active) throw new LafiteError(ErrorCode.NO_MODEL, "no active model version to start a job from");
    const training = this.ledger.trainingSet();
    const record = this.jobs.start({ kind, trigger, ownerPid: process.pid, parentVersion: active.version, snapshot: snapshotOf(training) });
    faultPoint("job.after-start");
    const log = this.log.child({ job: record.id, kind });
    log.info({ trigger, accepted: training.length, parent: active.version }, "job started");
    this.emit("job", record);
    const c = this.options.config;
    const spec: JobSpec = {
      jobId: record.id,
      kind,
      activeBundleDir: active.dir,
      outDir: record.outDir,
      accepted: training.map((f) => ({ path: this.images.absolute(f.file), sha256: f.sha256, ...(f.classTag ? { classTag: f.classTag } : {}) })),
      gate: {
        acceptedHoldout: this.ledger.holdoutNormals().map((f) => ({ path: this.images.absolute(f.file), ref: String(f.id) })),
        defects: this.ledger.defects().map((f) => ({ path: this.images.absolute(f.file), ref: String(f.id) })),
        aurocTolerance: c.promotion.aurocTolerance,
        pseudoValidationData: c.promotion.pseudoValidationData,
        ...(this.gateMemos.has(active.version) ? { memos: [this.gateMemos.get(active.version)!] } : {}),
      },
      intraOpThreads: c.jobs.intraOpThreads,
      options: c.jobs[kind].options ?? {},
      heartbeatMs: c.jobs.heartbeatMs,
      ...(this.options.bodyModule ? { bodyModule: this.options.bodyModule } : {}),
    };
    const controller = new AbortController();
    const progress = (done: number, total: number, message: string) => {
      this.jobs.heartbeat(record.id, { done, total, message });
      this.emit("job", this.jobs.get(record.id)!);
    };
    const finished = this.options.launcher
      .run(spec, { progress, heartbeat: () => this.jobs.heartbeat(record.id) }, controller.signal, log)
      .then((result) => this.completeJob(record, result, log))
      .catch(async (err: unknown) => {
        await rm(record.outDir, { recursive: true, force: true }).catch(() => undefined);
        const cancelled = controller.signal.aborted;
        const current = this.jobs.get(record.id)!;
        if (current.state !== "running") return current; // completeJob recorded it; only activation failed
        log[cancelled ? "warn" : "error"]({ err }, cancelled ? "job cancelled" : "job failed");
        return this.jobs.finish(record.id, cancelled ? "cancelled" : "failed", { message: (err as Error).message });
      })
      .then((rec) => {
        this.current = undefined;
        this.emit("job", rec);
        return rec;
      });
    this.current = { id: record.id, controller, finished };
    return { record, finished };
  }

  /** Registers a finished job's candidate with its gate decision, then promotes it if allowed. */
  private async completeJob(job: JobRecord, result: JobResult, log: Logger): Promise<JobRecord> {
    faultPoint("job.after-body");
    const bundle = await readBundle(job.outDir);
    const version = bundle.manifest.version;
    if (version !== result.version) throw new LafiteError(ErrorCode.BAD_BUNDLE, `the job's bundle changed after the gate (${result.version} → ${version})`);
    if (this.registry.get(version)) throw new LafiteError(ErrorCode.CONFLICT, `the job made version '${version}', which already exists; a body must give its bundle a new version`);
    const dest = this.registry.dirOf(version);
    await rename(job.outDir, dest);
    await fsyncDir(this.registry.root);
    faultPoint("job.after-move");
    this.rememberGate(result.gateMemos);
    const mode = this.options.config.jobs[job.kind].promotion;
    const gate = result.gate;
    const failed = gate.checks.filter((c) => c.includes("FAIL"));
    const decision = !gate.passed ? `rejected: ${failed.join("; ")}` : mode === "auto" ? "activating" : "waiting for ActivateModel";
    const manifest = bundle.manifest as BundleManifest;
    const rec = this.db.transaction(() => {
      this.registry.register({ version, state: "candidate", reason: `made by ${job.kind} job ${job.id}`, parent: job.parentVersion, jobId: job.id, dataSnapshot: job.snapshot, metrics: { bundle: manifest.metrics, job: result.summary } });
      this.registry.transition(version, gate.passed ? "candidate" : "rejected", gate.passed ? `passed the promotion gate (${mode} promotion)` : `failed the promotion gate: ${failed.join("; ")}`, { gate });
      return this.jobs.finish(job.id, "succeeded", { message: `made ${version}`, resultVersion: version, decision });
    })();
    faultPoint("job.after-register");
    log.info({ version, passed: gate.passed, checks: gate.checks, decision }, "job finished");
    this.emit("models");
    if (gate.passed && mode === "auto") {
      try {
        await this.activate(version, { reason: `auto-promoted: passed the promotion gate (job ${job.id})` });
        this.jobs.setDecision(job.id, "activated");
      } catch (err) {
        const msg = (err as Error).message;
        if (this.registry.get(version)?.state === "candidate") this.registry.transition(version, "rejected", `failed to load for activation: ${msg}`);
        this.jobs.setDecision(job.id, `rejected: failed to load for activation: ${msg}`);
        log.error({ err, version }, "auto-promotion failed; the active model stays");
      }
    } else {
      await this.prune();
    }
    return this.jobs.get(job.id) ?? rec;
  }

  /**
   * Keeps a gate's memos (the active model's and the candidate's, which may be the next active one), at most
   * GATE_MEMO_VERSIONS versions: a version a later gate no longer judges falls out.
   */
  private rememberGate(memos: readonly GateMemo[] | undefined): void {
    for (const m of memos ?? []) {
      this.gateMemos.delete(m.version);
      this.gateMemos.set(m.version, m);
    }
    for (const version of this.gateMemos.keys()) if (this.gateMemos.size > GATE_MEMO_VERSIONS) this.gateMemos.delete(version);
  }

  /** The running job, if any. */
  get runningJob(): { id: number; finished: Promise<JobRecord> } | undefined {
    return this.current;
  }

  /** Starts the cron schedules of config jobs.<kind>.schedule. A tick while a job runs is skipped and logged. */
  startSchedules(): void {
    const scheduler = this.options.scheduler ?? nodeCronScheduler;
    for (const kind of JOB_KINDS) {
      const expr = this.options.config.jobs[kind].schedule;
      if (expr === null) continue;
      this.tasks.push(
        scheduler.schedule(expr, kind, () => {
          try {
            this.runJob(kind, "cron");
          } catch (err) {
            this.log.warn({ kind, err: (err as Error).message }, "scheduled job not started");
          }
        }),
      );
      this.log.info({ kind, schedule: expr }, "job scheduled");
    }
  }

  /** Shutdown: stops the schedules, cancels a running job (its output is deleted), closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tasks) t.stop();
    this.tasks = [];
    const cur = this.current;
    if (cur) {
      cur.controller.abort();
      await cur.finished.catch(() => undefined);
    }
    await this.activation.catch(() => undefined);
    this.db.close();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
