/**
 * Issue 7's regression: a burst of fast answers must never stall a Detect
 * stream. Every case answers every frame once, in order, over a real server
 * and a real client, for several perStream settings (the original bug needed
 * perStream below the write buffer's high-water mark of 16).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { Verdict } from "../../src/gen/lafited/v1/detector_pb.js";
import type { DetectRequestInit } from "../../src/server/client.js";
import { ServingStatus } from "../../src/server/client.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";
import { badInputs } from "./support/bad-frames.js";
import { readAll } from "./support/stream-check.js";

async function burst(count: number, goodEvery: number): Promise<{ reqs: DetectRequestInit[]; expect: (i: number) => RegExp | "good" }> {
  const bad = await badInputs();
  const good = await grayPng(40);
  const reqs: DetectRequestInit[] = [];
  const kinds: (RegExp | "good")[] = [];
  for (let i = 0; i < count; i++) {
    if (goodEvery > 0 && i % goodEvery === 0) {
      reqs.push({ frameId: `g${i}`, image: { case: "encoded", value: good } });
      kinds.push("good");
    } else {
      const [, req, message] = bad[i % bad.length]!;
      reqs.push({ ...req, frameId: `b${i}` });
      kinds.push(message);
    }
  }
  return { reqs, expect: (i) => kinds[i]! };
}

for (const perStream of [1, 8, 64]) {
  test(`5,000 malformed frames back to back on one stream are all answered in order (perStream ${perStream})`, async () => {
    const h = await startHarness({ config: { queue: { perStream, concurrency: 2, maxWaiting: 64 } } });
    try {
      const { reqs, expect } = await burst(5000, 0);
      const stream = h.client.openDetect();
      for (const r of reqs) stream.sendNow(r);
      stream.end();
      const { responses, status: st } = await readAll(stream, { expected: reqs.length });
      assert.equal(st.code, status.OK, st.details);
      assert.equal(responses.length, reqs.length);
      for (const [i, r] of responses.entries()) {
        assert.equal(r.frameId, reqs[i]!.frameId, `answer ${i} out of order`);
        assert.equal(r.error?.code, status.INVALID_ARGUMENT, r.frameId);
        assert.match(r.error!.message, expect(i) as RegExp);
      }
      assert.equal(await h.client.health(), ServingStatus.SERVING);
      const after = await h.client.detectOne({ frameId: "after", image: { case: "encoded", value: await grayPng(200) } });
      assert.equal(after.verdict, Verdict.NG);
    } finally {
      await h.stop();
    }
  });
}

test("5,000 malformed frames mixed with good ones are answered in order, the good ones scored", async () => {
  const h = await startHarness({ config: { queue: { perStream: 8, concurrency: 2, maxWaiting: 64 } } });
  try {
    const { reqs, expect } = await burst(5000, 3);
    const stream = h.client.openDetect();
    for (const r of reqs) stream.sendNow(r);
    stream.end();
    const { responses, status: st } = await readAll(stream, { expected: reqs.length });
    assert.equal(st.code, status.OK, st.details);
    assert.deepEqual(responses.map((r) => r.frameId), reqs.map((r) => r.frameId));
    for (const [i, r] of responses.entries()) {
      const e = expect(i);
      if (e === "good") {
        assert.equal(r.error, undefined, `${r.frameId}: ${r.error?.message}`);
        assert.ok(Math.abs(r.score - 40 / 255) < 1e-6);
      } else {
        assert.equal(r.error?.code, status.INVALID_ARGUMENT, r.frameId);
        assert.match(r.error!.message, e);
      }
    }
    assert.equal(h.detector.frames, Math.ceil(5000 / 3));
  } finally {
    await h.stop();
  }
});

test("a slow reader (25 ms per answer, and a 1.5 s pause) gets every answer once, in order", async () => {
  const h = await startHarness({ config: { queue: { perStream: 8, concurrency: 2, maxWaiting: 64 } } });
  try {
    const { reqs } = await burst(300, 2);
    const stream = h.client.openDetect();
    const sending = (async () => {
      for (const r of reqs) await stream.send(r);
      stream.end();
    })();
    const { responses, status: st } = await readAll(stream, { expected: reqs.length, stallMs: 8000, readDelayMs: (i) => (i === 10 ? 1500 : 25) });
    await sending;
    assert.equal(st.code, status.OK, st.details);
    assert.deepEqual(responses.map((r) => r.frameId), reqs.map((r) => r.frameId));
  } finally {
    await h.stop();
  }
});

test("a client that half-closes right after its last frame still gets every answer, including slow ones", async () => {
  const h = await startHarness({ config: { queue: { perStream: 8, concurrency: 1, maxWaiting: 64 } }, fake: { delayMs: 15 } });
  try {
    const { reqs } = await burst(60, 2);
    const stream = h.client.openDetect();
    for (const r of reqs) stream.sendNow(r);
    stream.end(); // same tick as the last write
    const { responses, status: st } = await readAll(stream, { expected: reqs.length });
    assert.equal(st.code, status.OK, st.details);
    assert.deepEqual(responses.map((r) => r.frameId), reqs.map((r) => r.frameId));
  } finally {
    await h.stop();
  }
});
