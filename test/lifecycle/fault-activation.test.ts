/**
 * kill -9 at every stage of an activation (load, commit, pointer). After
 * the restart exactly one version is active — the old one if the kill came
 * before the commit, the new one after — the ACTIVE pointer agrees and the
 * daemon serves it.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeBox, startDaemon, assertConsistent, type Box } from "./support/fault-harness.js";
import { JobKind, JobState } from "../../src/gen/lafited/v1/admin_pb.js";

const boxes: Box[] = [];
after(() => Promise.all(boxes.map((b) => rm(b.dir, { recursive: true, force: true }))));

for (const stage of ["activate.after-load", "activate.after-commit", "activate.after-pointer"] as const) {
  test(`kill -9 at ${stage}`, { timeout: 60_000 }, async () => {
    const box = await makeBox();
    boxes.push(box);
    // A candidate waiting for ActivateModel (retrain promotes manually by default).
    const clean = await startDaemon(box);
    const job = await clean.admin.watchJob((await clean.admin.runJob({ kind: JobKind.RETRAIN })).id);
    assert.equal(job.state, JobState.SUCCEEDED);
    assert.equal(job.decision, "waiting for ActivateModel");
    await clean.stop();

    const r = await startDaemon(box, { LAFITED_FAULT: stage });
    await assert.rejects(r.admin.activateModel({ version: job.resultVersion }));
    await r.killed();

    const again = await startDaemon(box);
    try {
      await assertConsistent(box, again);
      const expected = stage === "activate.after-load" ? "v1" : job.resultVersion;
      assert.equal((await again.admin.listModels()).activeVersion, expected);
      assert.equal((await again.client.getModelInfo()).version, expected);
    } finally {
      await again.stop();
    }
  });
}
