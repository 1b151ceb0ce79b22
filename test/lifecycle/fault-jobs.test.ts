/**
 * kill -9 at every stage of a refresh and a retrain job — in the daemon
 * before the work starts, while its child process works, after the body,
 * after the candidate folder is moved in and after it is registered — and
 * a job process that dies on its own. After each restart the job is
 * visibly ended (abandoned, its output deleted), no partial version is
 * visible, and the daemon serves a verified active model.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { access, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeBox, startDaemon, assertConsistent, type Box } from "./support/fault-harness.js";
import { grayPng } from "../server/support/fake-detector.js";
import { JobKind, JobState, ModelState } from "../../src/gen/lafited/v1/admin_pb.js";

const boxes: Box[] = [];
after(() => Promise.all(boxes.map((b) => rm(b.dir, { recursive: true, force: true }))));

async function freshBox(): Promise<Box> {
  const box = await makeBox();
  boxes.push(box);
  // One acknowledged frame to train on, in a clean run.
  const r = await startDaemon(box);
  await r.admin.acceptNormal({ frame: { source: { case: "image", value: await grayPng(60) } } });
  await r.stop();
  return box;
}

const KINDS = [
  ["refresh", JobKind.REFRESH],
  ["retrain", JobKind.RETRAIN],
] as const;

for (const [name, kind] of KINDS) {
  for (const stage of ["job.after-start", "job.after-body", "job.after-move", "job.after-register"] as const) {
    test(`${name}: kill -9 of the daemon at ${stage}`, { timeout: 60_000 }, async () => {
      const box = await freshBox();
      const r = await startDaemon(box, { LAFITED_FAULT: stage });
      // The kill may come before or after RunJob answers; either way the daemon dies.
      await r.admin.runJob({ kind }).catch(() => undefined);
      await r.killed();

      const again = await startDaemon(box);
      try {
        await assertConsistent(box, again);
        const job = (await again.admin.listJobs()).jobs[0]!;
        if (stage === "job.after-register") {
          // Registered in one transaction with the job's outcome: a complete candidate, not yet active.
          assert.equal(job.state, JobState.SUCCEEDED);
          const v = (await again.admin.listModels()).models.find((m) => m.version === job.resultVersion)!;
          assert.ok(v.state === ModelState.CANDIDATE || v.state === ModelState.REJECTED);
          if (name === "refresh") assert.equal(job.decision, "interrupted before activation; waiting for ActivateModel");
        } else {
          assert.equal(job.state, JobState.ABANDONED);
          assert.match(job.message, /owner pid \d+ stopped .*partial output was deleted/);
          assert.deepEqual((await again.admin.listModels()).models.map((m) => m.version), ["v1"]);
        }
        // The daemon runs the next job normally.
        const next = await again.admin.runJob({ kind });
        const end = await again.admin.watchJob(next.id);
        assert.equal(end.state, JobState.SUCCEEDED, end.message);
        await assertConsistent(box, again);
      } finally {
        await again.stop();
      }
    });
  }
}

test("kill -9 of the daemon while the job's child process works: the child exits and the job is abandoned", { timeout: 60_000 }, async () => {
  const box = await freshBox();
  const pidFile = join(box.dir, "body.pid");
  const r = await startDaemon(box, { FAKE_BODY_BLOCK: pidFile });
  const job = await r.admin.runJob({ kind: JobKind.RETRAIN });
  await new Promise<void>((resolve) => {
    void r.admin.watchJob(job.id, (j) => (j.message === "blocked" ? resolve() : undefined)).catch(() => undefined);
  });
  const childPid = Number(await readFile(pidFile, "utf8"));
  r.daemon.child.kill("SIGKILL");
  await r.killed();

  const again = await startDaemon(box);
  try {
    await assertConsistent(box, again);
    const rec = (await again.admin.listJobs()).jobs[0]!;
    assert.equal(rec.state, JobState.ABANDONED);
    await assert.rejects(access(join(box.dataDir, "models", ".staging")));
    // The orphaned child noticed its IPC channel close and exited.
    let alive = true;
    for (let i = 0; i < 50 && alive; i++) {
      try {
        process.kill(childPid, 0);
        await new Promise((res) => setTimeout(res, 100));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, `job process ${childPid} outlived its daemon`);
  } finally {
    await again.stop();
  }
});

test("a job process killed on its own fails the job; the daemon keeps serving and deletes the output", { timeout: 60_000 }, async () => {
  const box = await freshBox();
  const r = await startDaemon(box, { LAFITED_FAULT: "job.child-mid-body" });
  try {
    const job = await r.admin.runJob({ kind: JobKind.REFRESH });
    const end = await r.admin.watchJob(job.id);
    assert.equal(end.state, JobState.FAILED);
    assert.match(end.message, /job process died \(signal SIGKILL\)/);
    await assertConsistent(box, r);
  } finally {
    await r.stop();
  }
});
