/**
 * Crash-test plumbing: start the lifecycle daemon (optionally armed with
 * LAFITED_FAULT), restart it, and check every invariant a crash must not
 * break: the active model loads and verifies, no acknowledged frame is lost,
 * no partial version is visible, the ledger and the disk agree, and no job
 * is left "running".
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { spawnDaemon, type DaemonProcess } from "../../server/support/daemon-process.js";
import { AdminClient } from "../../../src/server/admin-client.js";
import { LafitedClient } from "../../../src/server/client.js";
import { readBundle, sha256 } from "../../../src/model/bundle.js";
import { JobState, ModelState } from "../../../src/gen/lafited/v1/admin_pb.js";
import { writeFakeBundle } from "./fake-bundle.js";

const ENTRY = fileURLToPath(new URL("./lifecycle-daemon.js", import.meta.url));

export interface Box {
  readonly dir: string;
  readonly dataDir: string;
  readonly initial: string;
}

export async function makeBox(): Promise<Box> {
  const dir = await mkdtemp(join(tmpdir(), "lafite-fault-"));
  const initial = join(dir, "initial");
  await writeFakeBundle(initial, "v1", { threshold: 0.5 });
  return { dir, dataDir: join(dir, "data"), initial };
}

export interface Running {
  readonly daemon: DaemonProcess;
  readonly admin: AdminClient;
  readonly client: LafitedClient;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<void>;
  /** Waits for the daemon to die by SIGKILL (the armed fault) and closes the clients. */
  killed(): Promise<void>;
}

export async function startDaemon(box: Box, env: Record<string, string> = {}): Promise<Running> {
  const daemon = await spawnDaemon([ENTRY], {
    LAFITED_LIFECYCLE_DAEMON: "1",
    LAFITED_DATA_DIR: box.dataDir,
    LIFECYCLE_INITIAL: box.initial,
    LAFITED_LOG_LEVEL: "info", // spawnDaemon waits for the "ready" line
    ...env,
  }).catch((err: unknown) => {
    throw err;
  });
  const address = `127.0.0.1:${daemon.port}`;
  const admin = new AdminClient(address);
  const client = new LafitedClient(address);
  const close = () => {
    admin.close();
    client.close();
  };
  return {
    daemon,
    admin,
    client,
    stop: async () => {
      close();
      daemon.child.kill("SIGTERM");
      assert.equal(await daemon.exit, 0, daemon.log());
    },
    killed: async () => {
      await daemon.exit;
      close();
      assert.equal(daemon.child.signalCode, "SIGKILL", `expected death by the armed fault:\n${daemon.log()}`);
    },
  };
}

/** Every invariant after a restart; `acknowledged` are ledger ids whose answer reached the client. */
export async function assertConsistent(box: Box, r: Running, acknowledged: readonly bigint[] = []): Promise<void> {
  // 1. The active model loads and verifies (the daemon is ready and serves it; its folder's hashes check).
  const models = await r.admin.listModels();
  const info = await r.client.getModelInfo();
  assert.equal(info.version, models.activeVersion);
  assert.equal((await readFile(join(box.dataDir, "models", "ACTIVE"), "utf8")).trim(), models.activeVersion);
  // 2. No partial version is visible: the folders are exactly the live versions, each complete.
  const live = models.models.filter((m) => m.state !== ModelState.PRUNED).map((m) => m.version).sort();
  const folders = (await readdir(join(box.dataDir, "models"))).filter((n) => n !== "ACTIVE" && n !== ".staging").sort();
  assert.deepEqual(folders, live);
  // Jobs write under .staging; with no job running it holds nothing.
  assert.deepEqual(await readdir(join(box.dataDir, "models", ".staging")).catch(() => []), []);
  for (const v of live) assert.equal((await readBundle(join(box.dataDir, "models", v))).manifest.version, v);
  assert.equal(models.models.filter((m) => m.state === ModelState.ACTIVE).length, 1);
  assert.ok(models.models.filter((m) => m.state === ModelState.PREVIOUS).length <= 1);
  // 3. No job is silently running.
  const jobs = await r.admin.listJobs();
  assert.ok(jobs.jobs.every((j) => j.state !== JobState.RUNNING), jobs.jobs.map((j) => `${j.id} ${j.state} ${j.message}`).join("; "));
  // 4. No acknowledged frame is lost; the ledger and the image files agree.
  const accepted = await r.admin.listAccepted({ includeRemoved: true });
  const ids = new Set(accepted.frames.map((f) => f.id));
  for (const id of acknowledged) assert.ok(ids.has(id), `acknowledged frame ${id} is missing`);
  const db = new Database(join(box.dataDir, "state.db"), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT sha256, file FROM frames").all() as { sha256: string; file: string }[];
    for (const row of rows) assert.equal(sha256(await readFile(join(box.dataDir, row.file))), row.sha256, row.file);
    const files: string[] = [];
    for (const shard of await readdir(join(box.dataDir, "frames")).catch(() => [] as string[])) {
      for (const name of await readdir(join(box.dataDir, "frames", shard))) files.push(`frames/${shard}/${name}`);
    }
    assert.deepEqual(files.sort(), [...new Set(rows.map((x) => x.file))].sort(), "image files without a ledger row");
    const transitions = db.prepare("SELECT COUNT(*) AS n FROM transitions t LEFT JOIN model_versions v ON v.version = t.version WHERE v.version IS NULL").get() as { n: number };
    assert.equal(transitions.n, 0);
  } finally {
    db.close();
  }
}
