import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import type { DetectResponse } from "../../src/gen/lafited/v1/detector_pb.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";

test("a client that writes far ahead is slowed by flow control, not buffered: the server holds at most perStream frames", async () => {
  const h = await startHarness({ config: { queue: { perStream: 4, concurrency: 1, maxWaiting: 64 } }, fake: { delayMs: 5 } });
  try {
    const png = await grayPng(30);
    const stream = h.client.openDetect();
    for (let i = 0; i < 80; i++) stream.sendNow({ frameId: `f${i}`, image: { case: "encoded", value: png } });
    stream.end();
    const ids: string[] = [];
    for await (const r of stream) {
      assert.equal(r.error, undefined);
      ids.push(r.frameId);
    }
    assert.equal((await stream.status).code, status.OK);
    assert.deepEqual(ids, Array.from({ length: 80 }, (_, i) => `f${i}`));
    // One frame runs; the rest of the stream's admitted frames wait: never more than perStream in all.
    assert.ok(h.server.stats.queue.peakWaiting <= 3, `peak waiting ${h.server.stats.queue.peakWaiting}`);
    assert.equal(h.detector.peakActive, 1);
  } finally {
    await h.stop();
  }
});

test("when the global queue is full, frames get RESOURCE_EXHAUSTED (per frame in streams) and the server recovers", async () => {
  const h = await startHarness({ config: { queue: { perStream: 8, concurrency: 1, maxWaiting: 2 } }, fake: { delayMs: 60 } });
  try {
    const png = await grayPng(30);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => h.newClient().detectOne({ frameId: `u${i}`, image: { case: "encoded", value: png } })),
    );
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as ServiceError);
    assert.ok(refused.length >= 1, "some unary calls are refused");
    for (const e of refused) {
      assert.equal(e.code, status.RESOURCE_EXHAUSTED);
      assert.match(e.details, /queue is full/);
    }
    assert.ok(results.some((r) => r.status === "fulfilled"));

    const got: DetectResponse[] = [];
    const st = await h.client.detectMany(
      Array.from({ length: 8 }, (_, i) => ({ frameId: `s${i}`, image: { case: "encoded" as const, value: png } })),
      (r) => got.push(r),
    );
    assert.equal(st.code, status.OK, "the stream survives refused frames");
    assert.deepEqual(got.map((r) => r.frameId), Array.from({ length: 8 }, (_, i) => `s${i}`));
    const errs = got.filter((r) => r.error);
    assert.ok(errs.length >= 1, "frames beyond the queue are refused");
    for (const r of errs) assert.equal(r.error!.code, status.RESOURCE_EXHAUSTED);
    assert.ok(h.server.stats.queue.refused >= refused.length + errs.length);

    const after = await h.client.detectOne({ frameId: "after", image: { case: "encoded", value: png } });
    assert.equal(after.error, undefined);
  } finally {
    await h.stop();
  }
});

test("a client deadline is respected: DEADLINE_EXCEEDED, and a frame still queued when it passes never runs", async () => {
  const h = await startHarness({ config: { queue: { concurrency: 1 } }, fake: { delayMs: 300 } });
  try {
    const png = await grayPng(30);
    const slow = h.client.detectOne({ frameId: "slow", image: { case: "encoded", value: png } });
    await new Promise((r) => setTimeout(r, 30));
    const err = (await h.client.detectOne({ frameId: "hurried", image: { case: "encoded", value: png } }, { timeoutMs: 80 }).then(
      () => assert.fail("should time out"),
      (e: unknown) => e,
    )) as ServiceError;
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
    assert.equal((await slow).frameId, "slow");
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(h.detector.frames, 1, "the timed-out frame left the queue without running");
  } finally {
    await h.stop();
  }
});
