import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";
import { tokenHash } from "../../../src/server/auth/tokens.js";
import type { DetectResponse } from "../../../src/gen/lafited/v1/detector_pb.js";

const auth = {
  tokens: [
    { name: "line-a", sha256: tokenHash("a"), scopes: ["detect" as const] },
    { name: "line-b", sha256: tokenHash("b"), scopes: ["detect" as const] },
  ],
  tokensFile: null,
  clientCerts: [],
  openHealth: true,
  openReflection: true,
  allowPlaintext: false,
};

test("a line flooding past its frame rate gets per-frame RESOURCE_EXHAUSTED; another line on the same daemon is answered in full", async () => {
  // A small waiting room: without the per-token limit, line A's flood (read 64 at a time) can fill it and get
  // line B refused too; with it, A holds at most its burst and B's burst still fits.
  const h = await startSecure({
    auth,
    queue: { concurrency: 1, maxWaiting: 16, perStream: 64 },
    limits: { perPeer: { maxStreams: null, framesPerSecond: null }, perToken: { framesPerSecond: 5 } },
  });
  try {
    const png = await grayPng(20);
    const frame = (id: string) => ({ frameId: id, image: { case: "encoded" as const, value: png } });
    const a: DetectResponse[] = [];
    const b: DetectResponse[] = [];
    // 100 frames at once: at 5 frames/s (burst 5) at least 80 exceed the rate unless sending took over 15 s.
    const flood = h.client({ token: "a" }).detectMany(Array.from({ length: 100 }, (_, i) => frame(`a${i}`)), (r) => a.push(r));
    // Line B stays within its own budget: 5 frames, the burst.
    const polite = h.client({ token: "b" }).detectMany(Array.from({ length: 5 }, (_, i) => frame(`b${i}`)), (r) => b.push(r));
    const [sa, sb] = await Promise.all([flood, polite]);

    assert.equal(sb.code, status.OK);
    assert.deepEqual(b.map((r) => r.frameId), ["b0", "b1", "b2", "b3", "b4"]);
    assert.ok(b.every((r) => r.error === undefined), `line B was refused: ${b.map((r) => r.error?.message).join("; ")}`);

    assert.equal(sa.code, status.OK, "the flooding line's stream stays open to the end");
    assert.deepEqual(a.map((r) => r.frameId), Array.from({ length: 100 }, (_, i) => `a${i}`), "every frame is answered, in order");
    const limited = a.filter((r) => r.error?.code === status.RESOURCE_EXHAUSTED);
    assert.ok(limited.length >= 80, `only ${limited.length} frames were limited`);
    assert.match(limited[0]!.error!.message, /token:line-a .*limits\.perToken\.framesPerSecond/);
    assert.ok(a.filter((r) => r.error === undefined).length >= 5, "the line's own budget was served");
  } finally {
    await h.stop();
  }
});

test("limits.perPeer.maxStreams refuses the extra stream with RESOURCE_EXHAUSTED naming the limit; closing one makes room", async () => {
  const h = await startSecure({ limits: { perPeer: { maxStreams: 2, framesPerSecond: null }, perToken: { framesPerSecond: null } } });
  try {
    const client = h.client();
    const png = await grayPng(20);
    const s1 = client.openDetect();
    const s2 = client.openDetect();
    for (const s of [s1, s2]) await s.send({ frameId: "x", image: { case: "encoded", value: png } });
    const it1 = s1[Symbol.asyncIterator]();
    const it2 = s2[Symbol.asyncIterator]();
    await it1.next();
    await it2.next(); // both streams are open on the server
    const s3 = client.openDetect();
    s3.sendNow({ frameId: "y", image: { case: "encoded", value: png } });
    for await (const _ of s3) assert.fail("the third stream must not be served");
    const st = await s3.status;
    assert.equal(st.code, status.RESOURCE_EXHAUSTED);
    assert.match(st.details, /too many open streams from 127\.0\.0\.1: 2 open, limit 2 \(config limits\.perPeer\.maxStreams\)/);

    s1.end();
    await s1.status;
    const s4 = client.openDetect();
    await s4.send({ frameId: "z", image: { case: "encoded", value: png } });
    s4.end();
    const got: string[] = [];
    for await (const r of s4) got.push(r.frameId);
    assert.deepEqual(got, ["z"]);
    s2.end();
    await s2.status;
  } finally {
    await h.stop();
  }
});
