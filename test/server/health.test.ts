import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { ServingStatus } from "../../src/server/client.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";
import { until } from "../support/until.js";

const rejection = (p: Promise<unknown>) => p.then(() => assert.fail("call succeeded"), (e: unknown) => e as ServiceError);

test("without a model: health NOT_SERVING, calls FAILED_PRECONDITION; Watch sees SERVING once a model loads", async () => {
  const h = await startHarness({ noModel: true });
  try {
    assert.equal(await h.client.health(""), ServingStatus.NOT_SERVING);
    assert.equal(await h.client.health("lafited.v1.Detector"), ServingStatus.NOT_SERVING);
    assert.equal((await rejection(h.client.health("no.such.Service"))).code, status.NOT_FOUND);

    const png = await grayPng(5);
    const one = await rejection(h.client.detectOne({ frameId: "x", image: { case: "encoded", value: png } }));
    assert.equal(one.code, status.FAILED_PRECONDITION);
    assert.match(one.details, /no model/);
    assert.equal((await rejection(h.client.getModelInfo())).code, status.FAILED_PRECONDITION);
    const stream = h.client.openDetect();
    stream.sendNow({ frameId: "x", image: { case: "encoded", value: png } });
    for await (const _ of stream) assert.fail("no response expected");
    assert.equal((await stream.status).code, status.FAILED_PRECONDITION);

    const seen: ServingStatus[] = [];
    const unknown: ServingStatus[] = [];
    const watch = h.client.watchHealth("lafited.v1.Detector", (s) => seen.push(s));
    const watchUnknown = h.client.watchHealth("no.such.Service", (s) => unknown.push(s));
    await until(() => seen.length === 1 && unknown.length === 1);
    await h.server.loadModel();
    await until(() => seen.length === 2);
    assert.deepEqual(seen, [ServingStatus.NOT_SERVING, ServingStatus.SERVING]);
    assert.deepEqual(unknown, [ServingStatus.SERVICE_UNKNOWN]);
    assert.equal(await h.client.health(""), ServingStatus.SERVING);
    watch.cancel();
    watchUnknown.cancel();
  } finally {
    await h.stop();
  }
});

test("shutdown: watchers see NOT_SERVING, in-flight frames finish, new calls get UNAVAILABLE", async () => {
  const h = await startHarness({ fake: { delayMs: 150 } });
  try {
    const png = await grayPng(5);
    const seen: ServingStatus[] = [];
    let watchEnded = false;
    h.client.watchHealth("", (s) => seen.push(s), () => (watchEnded = true));
    await until(() => seen.length === 1);
    const inflight = h.client.detectOne({ frameId: "inflight", image: { case: "encoded", value: png } });
    const stream = h.client.openDetect();
    for (let i = 0; i < 3; i++) stream.sendNow({ frameId: `s${i}`, image: { case: "encoded", value: png } });
    const ids: string[] = [];
    const reading = (async () => {
      for await (const r of stream) ids.push(r.frameId);
    })();
    await until(() => h.server.stats.queue.running + h.server.stats.queue.waiting === 4); // the unary frame and the 3 stream frames are admitted
    const stopping = h.server.shutdown(5000);
    const late = await rejection(h.newClient().detectOne({ frameId: "late", image: { case: "encoded", value: png } }));
    assert.equal(late.code, status.UNAVAILABLE, late.message);
    assert.equal((await inflight).frameId, "inflight");
    await reading;
    assert.deepEqual(ids, ["s0", "s1", "s2"]);
    assert.equal((await stream.status).code, status.UNAVAILABLE);
    await stopping;
    assert.equal(h.server.state, "stopped");
    assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    await until(() => watchEnded);
    assert.equal(h.detector.closed, true);
  } finally {
    await h.stop();
  }
});

test("reload swaps the detector; the old one closes only after its frames finish", async () => {
  const h = await startHarness({ fake: { delayMs: 100 } });
  try {
    const old = h.detector;
    const png = await grayPng(5);
    const inflight = h.client.detectOne({ frameId: "a", image: { case: "encoded", value: png } });
    await until(() => old.active > 0);
    const info = await h.server.reload();
    assert.ok(info);
    assert.notEqual(h.detector, old);
    assert.equal(old.closed, false, "old detector still has a frame in flight");
    const first = await inflight;
    assert.equal(first.error, undefined);
    await until(() => old.closed);
    const next = await h.client.detectOne({ frameId: "b", image: { case: "encoded", value: png } });
    assert.equal(next.error, undefined);
    assert.equal(h.detector.frames, 1);
  } finally {
    await h.stop();
  }
});
