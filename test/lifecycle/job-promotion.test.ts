/**
 * A job end to end in process: the (fake) body writes a candidate, the gate
 * judges it against the active model, the registry records the decision
 * with its numbers, and promotion follows the configured mode.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { makeFixture } from "./support/lifecycle-fixture.js";
import { grayPng } from "../server/support/fake-detector.js";

const jobs = (refresh: "auto" | "manual", retrain: "auto" | "manual" = "manual") => ({
  jobs: { refresh: { schedule: null, promotion: refresh }, retrain: { schedule: null, promotion: retrain }, nice: 10, intraOpThreads: 1, heartbeatMs: 60_000 },
});
const image = (bytes: Uint8Array, score: number) => ({ bytes, score, threshold: 0.5, modelVersion: "v1" });

afterEach(() => {
  delete process.env.FAKE_BODY_THRESHOLD_FACTOR;
  delete process.env.FAKE_BODY_FAIL;
});

test("a refresh whose candidate passes the gate is auto-promoted; the decision and snapshot are recorded", async () => {
  const f = await makeFixture({ config: { ...jobs("auto"), ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const a = await f.lifecycle.ledger.record({ kind: "normal", image: image(await grayPng(60), 0.3) });
    assert.ok(a.status === "accepted");
    const { record, finished } = f.lifecycle.runJob("refresh");
    assert.equal(record.state, "running");
    assert.throws(() => f.lifecycle.runJob("retrain"), /still running; jobs never overlap/);
    const done = await finished;
    assert.equal(done.state, "succeeded");
    assert.equal(done.decision, "activated");
    const v = f.lifecycle.registry.get(done.resultVersion!)!;
    assert.equal(v.state, "active");
    assert.equal(v.parent, "v1");
    assert.equal(v.jobId, done.id);
    assert.deepEqual(v.dataSnapshot.accepted, [a.record.id]);
    assert.equal(v.gate?.passed, true);
    assert.ok(v.gate!.checks.some((c) => /false alarms .*: ok/.test(c)));
    assert.ok(v.gate!.checks.some((c) => /AUROC: skipped/.test(c)));
    assert.deepEqual(f.served, [v.version]);
    assert.equal(f.lifecycle.registry.get("v1")?.state, "previous");
    await assert.rejects(access(done.outDir));
  } finally {
    await f.cleanup();
  }
});

test("a candidate that raises false alarms on held-out normals or misses a confirmed defect is rejected with its numbers", async () => {
  const f = await makeFixture({ config: { ...jobs("auto"), ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 1 } } });
  try {
    // Brightness 0.4 is a normal under threshold 0.5; the candidate's threshold 0.35 calls it NG.
    await f.lifecycle.ledger.record({ kind: "normal", image: image(await grayPng(102), 0.4) });
    // Brightness 0.8 is a defect both catch; 0.6 only the active model (threshold 0.5) catches... with factor 0.7 the candidate catches it too.
    await f.lifecycle.ledger.record({ kind: "defect", image: image(await grayPng(204), 0.8) });
    process.env.FAKE_BODY_THRESHOLD_FACTOR = "0.7";
    const rejected = await f.lifecycle.runJob("refresh").finished;
    assert.equal(rejected.state, "succeeded");
    assert.match(rejected.decision, /^rejected: false alarms .*candidate 1, active 0: FAIL/);
    const v = f.lifecycle.registry.get(rejected.resultVersion!)!;
    assert.equal(v.state, "rejected");
    assert.equal((v.gate!.details.candidate as { falseAlarms: number }).falseAlarms, 1);
    assert.equal(f.lifecycle.registry.active()?.version, "v1");

    // A candidate with a higher threshold (0.9) misses the 0.8 defect the active model detects.
    process.env.FAKE_BODY_THRESHOLD_FACTOR = "1.8";
    const missed = await f.lifecycle.runJob("retrain").finished;
    assert.match(missed.decision, /confirmed defects: .*misses defect:\d+: FAIL/);
    assert.equal(f.lifecycle.registry.get(missed.resultVersion!)?.state, "rejected");
    assert.deepEqual(f.served, []);
  } finally {
    await f.cleanup();
  }
});

test("the next job's gate takes the active model's scores from the last gate: only what is new to a model is scored", async () => {
  const f = await makeFixture({ config: { ...jobs("auto"), ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 1 } } });
  const scoredAnew = (version: string) => {
    const d = f.lifecycle.registry.get(version)!.gate!.details as Record<"active" | "candidate", { scoredAnew: { images: number } }>;
    return { active: d.active.scoredAnew.images, candidate: d.candidate.scoredAnew.images };
  };
  try {
    await f.lifecycle.ledger.record({ kind: "normal", image: image(await grayPng(60), 0.3) });
    await f.lifecycle.ledger.record({ kind: "defect", image: image(await grayPng(204), 0.8) });
    const first = await f.lifecycle.runJob("refresh").finished;
    assert.equal(first.decision, "activated");
    assert.deepEqual(scoredAnew(first.resultVersion!), { active: 2, candidate: 2 }, "nothing known yet: both models score the held-out normal and the defect");
    // The first candidate is active now, and the first gate scored it.
    const second = await f.lifecycle.runJob("refresh").finished;
    assert.equal(second.decision, "activated");
    assert.deepEqual(scoredAnew(second.resultVersion!), { active: 0, candidate: 2 });
    const g1 = f.lifecycle.registry.get(first.resultVersion!)!.gate!;
    const g2 = f.lifecycle.registry.get(second.resultVersion!)!.gate!;
    assert.deepEqual(g2.checks, g1.checks, "the same images, the same numbers");
    // A new held-out normal is all the active model has not seen.
    await f.lifecycle.ledger.record({ kind: "normal", image: image(await grayPng(70), 0.3) });
    const third = await f.lifecycle.runJob("retrain").finished;
    assert.deepEqual(scoredAnew(third.resultVersion!), { active: 1, candidate: 3 });
    assert.match(f.lifecycle.registry.get(third.resultVersion!)!.gate!.checks[0]!, /false alarms on 2 held-out normals .*candidate 0, active 0: ok/);
  } finally {
    await f.cleanup();
  }
});

test("manual promotion leaves a passing candidate waiting for ActivateModel", async () => {
  const f = await makeFixture({ config: jobs("manual") });
  try {
    const done = await f.lifecycle.runJob("refresh").finished;
    assert.equal(done.decision, "waiting for ActivateModel");
    assert.equal(f.lifecycle.registry.get(done.resultVersion!)?.state, "candidate");
    assert.equal(f.lifecycle.registry.active()?.version, "v1");
    await f.lifecycle.activate(done.resultVersion!, { reason: "activated by ana" });
    assert.equal(f.lifecycle.registry.active()?.version, done.resultVersion);
    assert.equal(f.lifecycle.jobs.get(done.id)?.decision, "activated: activated by ana");
  } finally {
    await f.cleanup();
  }
});

test("a failing body ends the job as failed, deletes its output and registers nothing", async () => {
  const f = await makeFixture({ config: jobs("auto") });
  try {
    process.env.FAKE_BODY_FAIL = "1";
    const done = await f.lifecycle.runJob("retrain").finished;
    assert.equal(done.state, "failed");
    assert.match(done.message, /fake body failure/);
    assert.equal(f.lifecycle.registry.list().length, 1);
    await assert.rejects(access(done.outDir));
    assert.equal(f.lifecycle.jobs.running(), undefined);
  } finally {
    await f.cleanup();
  }
});

test("a cron tick starts the scheduled job kind with its configured options; a tick while a job runs is skipped", async () => {
  const f = await makeFixture({ config: { jobs: { refresh: { schedule: "0 3 * * *", promotion: "manual", options: { maxAdditions: 5 } }, retrain: { schedule: null, promotion: "manual" }, nice: 10, intraOpThreads: 1, heartbeatMs: 60_000 } } });
  try {
    f.lifecycle.startSchedules();
    assert.deepEqual([...f.scheduler.tasks.keys()], ["refresh"]);
    assert.equal(f.scheduler.tasks.get("refresh")!.expression, "0 3 * * *");
    f.scheduler.fire("refresh");
    f.scheduler.fire("refresh");
    const running = f.lifecycle.runningJob;
    assert.ok(running);
    const done = await running.finished;
    assert.equal(done.trigger, "cron");
    assert.equal(done.state, "succeeded");
    assert.equal(f.lifecycle.jobs.list().length, 1);
    const summary = (f.lifecycle.registry.get(done.resultVersion!)!.metrics as { job: { options: unknown } }).job;
    assert.deepEqual(summary.options, { maxAdditions: 5, intraOpThreads: 1 }, "config jobs.refresh.options, plus the runner's thread budget");
  } finally {
    await f.cleanup();
  }
});
