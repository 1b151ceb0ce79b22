/**
 * A job process that stops sending heartbeats (its event loop is stuck) is
 * killed by the daemon and the job fails visibly, instead of staying
 * "running" while nothing happens.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeBox, startDaemon, assertConsistent } from "./support/fault-harness.js";
import { JobKind, JobState } from "../../src/gen/lafited/v1/admin_pb.js";

const box = await makeBox();
after(() => rm(box.dir, { recursive: true, force: true }));

test("a hung job process is killed after missing its heartbeats and the job is marked failed", { timeout: 60_000 }, async () => {
  const config = join(box.dir, "fast-heartbeat.yaml");
  await writeFile(config, "jobs:\n  heartbeatMs: 100\n");
  const r = await startDaemon(box, { LAFITED_CONFIG: config, FAKE_BODY_HANG: "1" });
  try {
    const job = await r.admin.runJob({ kind: JobKind.REFRESH });
    const seen: string[] = [];
    const end = await r.admin.watchJob(job.id, (j) => void seen.push(j.message));
    assert.ok(seen.includes("hanging"), seen.join(" | "));
    assert.equal(end.state, JobState.FAILED);
    assert.match(end.message, /job process stopped responding \(no heartbeat for \d+ ms\); killed/);
    assert.equal((await r.admin.listModels()).models.length, 1);
    await assertConsistent(box, r);
  } finally {
    await r.stop();
  }
});
