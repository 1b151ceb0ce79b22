import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { LafitedClient, ServingStatus } from "../../src/server/client.js";
import type { DetectResponse } from "../../src/gen/lafited/v1/detector_pb.js";
import { grayPng } from "./support/fake-detector.js";
import { spawnDaemon } from "./support/daemon-process.js";

const DAEMON = fileURLToPath(new URL("./support/fake-daemon.js", import.meta.url));

/** Starts the fake daemon process; resolves with its port once it logged "ready". */
const startDaemon = (env: Record<string, string>) => spawnDaemon([DAEMON], { LAFITED_FAKE_DAEMON: "1", ...env });

test("SIGTERM in the middle of a stream answers the admitted frames in order, then the process exits 0", async () => {
  const d = await startDaemon({ FAKE_DELAY_MS: "40" });
  const client = new LafitedClient(`127.0.0.1:${d.port}`);
  try {
    assert.equal(await client.health(), ServingStatus.SERVING);
    const png = await grayPng(10);
    const stream = client.openDetect();
    for (let i = 0; i < 30; i++) stream.sendNow({ frameId: `f${i}`, image: { case: "encoded", value: png } });
    const got: DetectResponse[] = [];
    let signalled = false;
    for await (const res of stream) {
      got.push(res);
      if (got.length === 3 && !signalled) {
        signalled = true;
        d.child.kill("SIGTERM");
      }
    }
    const st = await stream.status;
    assert.equal(st.code, status.UNAVAILABLE, st.details);
    const m = /all (\d+) admitted frames were answered/.exec(st.details);
    assert.ok(m, `status details name the admitted frames: ${st.details}`);
    assert.equal(got.length, Number(m[1]));
    assert.ok(got.length >= 3 && got.length < 30, `answered ${got.length}`);
    assert.deepEqual(got.map((r) => r.frameId), got.map((_, i) => `f${i}`));
    for (const r of got) assert.equal(r.error, undefined, r.error?.message);
    assert.equal(await d.exit, 0, d.log());
    assert.match(d.log(), /"msg":"stopped"/);
  } finally {
    client.close();
    d.child.kill("SIGKILL");
  }
});

test("SIGHUP swaps the model without dropping an open stream", async () => {
  const d = await startDaemon({ FAKE_DELAY_MS: "5" });
  const client = new LafitedClient(`127.0.0.1:${d.port}`);
  try {
    const png = await grayPng(200);
    const stream = client.openDetect();
    const versions: string[] = [];
    const reading = (async () => {
      for await (const res of stream) {
        assert.equal(res.error, undefined);
        versions.push(res.modelVersion);
      }
    })();
    for (let i = 0; i < 10; i++) await stream.send({ frameId: `a${i}`, image: { case: "encoded", value: png } });
    while (versions.length < 10) await new Promise((r) => setTimeout(r, 10));
    d.child.kill("SIGHUP");
    const deadline = Date.now() + 5000;
    while (!d.log().includes('"msg":"reloaded"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 10; i++) await stream.send({ frameId: `b${i}`, image: { case: "encoded", value: png } });
    stream.end();
    await reading;
    assert.equal((await stream.status).code, status.OK);
    assert.equal(versions.length, 20);
    assert.deepEqual(new Set(versions.slice(0, 10)), new Set(["fake-1"]));
    assert.deepEqual(new Set(versions.slice(10)), new Set(["fake-2"]));
    d.child.kill("SIGTERM");
    assert.equal(await d.exit, 0);
  } finally {
    client.close();
    d.child.kill("SIGKILL");
  }
});
