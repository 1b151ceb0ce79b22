/**
 * Property: whatever the mix of frames, the stream settings, the client's
 * reading pace and when it half-closes, a Detect stream answers every frame
 * once and in order, and never goes silent while answers are owed. fast-check
 * draws the cases; readAll fails fast on a stall instead of hanging.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { status } from "@grpc/grpc-js";
import type { DetectRequestInit } from "../../src/server/client.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";
import { badInputs } from "./support/bad-frames.js";
import { readAll } from "./support/stream-check.js";

const scenario = fc.record({
  perStream: fc.integer({ min: 1, max: 24 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  delayMs: fc.constantFrom(0, 0, 2),
  /** 0 = bad frame (kind by index), 1 = good frame. */
  frames: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 400 }),
  honourFlowControl: fc.boolean(),
  /** Milliseconds the reader sleeps before every n-th answer. */
  readPause: fc.record({ every: fc.integer({ min: 1, max: 50 }), ms: fc.constantFrom(0, 1, 5, 30) }),
});

test("every Detect stream answers every frame once, in order, for random frame mixes, settings and readers", async () => {
  const bad = await badInputs();
  const good = await grayPng(77);
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const h = await startHarness({ config: { queue: { perStream: s.perStream, concurrency: s.concurrency, maxWaiting: 64 } }, fake: { delayMs: s.delayMs } });
      try {
        const reqs: DetectRequestInit[] = s.frames.map((g, i) => (g === 1 ? { frameId: `g${i}`, image: { case: "encoded", value: good } } : { ...bad[i % bad.length]![1], frameId: `b${i}` }));
        const stream = h.client.openDetect();
        const sending = (async () => {
          for (const r of reqs) {
            if (s.honourFlowControl) await stream.send(r);
            else stream.sendNow(r);
          }
          stream.end();
        })();
        const { responses, status: st } = await readAll(stream, {
          expected: reqs.length,
          stallMs: 4000,
          readDelayMs: (i) => (i % s.readPause.every === 0 ? s.readPause.ms : 0),
        });
        await sending;
        assert.equal(st.code, status.OK, st.details);
        assert.deepEqual(responses.map((r) => r.frameId), reqs.map((r) => r.frameId));
        for (const r of responses) assert.equal(r.error === undefined, r.frameId.startsWith("g"), `${r.frameId}: ${r.error?.message}`);
      } finally {
        await h.stop();
      }
    }),
    { numRuns: 30, seed: 7, endOnFailure: true }, // a stall costs seconds per run: report the first one rather than shrink
  );
});
