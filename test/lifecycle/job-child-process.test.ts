/**
 * Jobs run in a child process of the daemon, at the configured nice level
 * and ONNX thread count, and train only on live, non-held-out accepted
 * frames (a removed frame rolls out of the next job).
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeBox, startDaemon } from "./support/fault-harness.js";
import { grayPng } from "../server/support/fake-detector.js";
import { JobKind, JobState } from "../../src/gen/lafited/v1/admin_pb.js";
import { sha256 } from "../../src/model/bundle.js";

const box = await makeBox();
after(() => rm(box.dir, { recursive: true, force: true }));

test("a job runs in its own process at jobs.nice with jobs.intraOpThreads, on the live accepted frames only", { timeout: 60_000 }, async () => {
  const r = await startDaemon(box);
  try {
    const keep = await grayPng(50);
    const drop = await grayPng(80);
    const a = await r.admin.acceptNormal({ frame: { source: { case: "image", value: keep } } });
    const b = await r.admin.acceptNormal({ frame: { source: { case: "image", value: drop } } });
    await r.admin.removeAccepted({ id: b.acceptedId });
    const end = await r.admin.watchJob((await r.admin.runJob({ kind: JobKind.RETRAIN })).id);
    assert.equal(end.state, JobState.SUCCEEDED, end.message);
    const model = (await r.admin.listModels()).models.find((m) => m.version === end.resultVersion)!;
    const summary = (JSON.parse(model.metricsJson) as { job: { pid: number; priority: number; intraOpThreads: number; acceptedSha256: string[] } }).job;
    assert.notEqual(summary.pid, r.daemon.child.pid);
    assert.equal(summary.priority, 10); // config/lafited.yaml jobs.nice
    assert.equal(summary.intraOpThreads, 1); // jobs.intraOpThreads
    // Hold-out share is 0.2 by hash: the kept frame trains unless it is held out; the removed one never does.
    const held = (await r.admin.listAccepted({})).frames.find((f) => f.id === a.acceptedId)!.holdout;
    assert.deepEqual(summary.acceptedSha256, held ? [] : [sha256(keep)]);
    assert.ok(!summary.acceptedSha256.includes(sha256(drop)));
    assert.deepEqual(JSON.parse(model.dataSnapshotJson).accepted, held ? [] : [Number(a.acceptedId)]);
  } finally {
    await r.stop();
  }
});
