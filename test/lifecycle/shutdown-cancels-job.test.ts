/**
 * SIGTERM while a job works: the daemon cancels the job (its process is
 * told, then stopped), deletes its output, records it as cancelled and
 * exits 0; the next start finds nothing to clean up.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeBox, startDaemon, assertConsistent } from "./support/fault-harness.js";
import { JobKind, JobState } from "../../src/gen/lafited/v1/admin_pb.js";

const box = await makeBox();
after(() => rm(box.dir, { recursive: true, force: true }));

test("a job running at shutdown is cancelled, not abandoned, and leaves no output", { timeout: 60_000 }, async () => {
  const pidFile = join(box.dir, "body.pid");
  const r = await startDaemon(box, { FAKE_BODY_BLOCK: pidFile });
  const job = await r.admin.runJob({ kind: JobKind.REFRESH });
  await new Promise<void>((resolve) => {
    void r.admin.watchJob(job.id, (j) => (j.message === "blocked" ? resolve() : undefined)).catch(() => undefined);
  });
  const childPid = Number(await readFile(pidFile, "utf8"));
  await r.stop(); // SIGTERM, exit code 0
  assert.throws(() => process.kill(childPid, 0), /ESRCH/, "the job process must be gone once the daemon has exited");

  const again = await startDaemon(box);
  try {
    const rec = (await again.admin.listJobs()).jobs[0]!;
    assert.equal(rec.state, JobState.CANCELLED);
    assert.ok(rec.finishedAt);
    await assertConsistent(box, again);
  } finally {
    await again.stop();
  }
});
