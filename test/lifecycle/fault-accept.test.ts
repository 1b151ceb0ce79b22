/**
 * kill -9 at every stage of accepting a frame. An acknowledged frame is
 * never lost; a frame killed before its commit leaves no file behind; one
 * killed after its commit (answer never sent) is recorded, and the client's
 * retry is answered "duplicate".
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeBox, startDaemon, assertConsistent } from "./support/fault-harness.js";
import { grayPng } from "../server/support/fake-detector.js";
import { AcceptStatus } from "../../src/gen/lafited/v1/admin_pb.js";

const box = await makeBox();
after(() => rm(box.dir, { recursive: true, force: true }));
const acknowledged: bigint[] = [];

const image = async (level: number) => ({ source: { case: "image" as const, value: await grayPng(level) } });

test("frames accepted before a crash are kept", { timeout: 60_000 }, async () => {
  const r = await startDaemon(box);
  for (const level of [10, 20]) {
    const res = await r.admin.acceptNormal({ frame: await image(level), operator: "ana" });
    assert.equal(res.status, AcceptStatus.ACCEPTED);
    acknowledged.push(res.acceptedId);
  }
  await r.stop();
});

for (const stage of ["accept.after-image-write", "accept.after-commit"] as const) {
  test(`kill -9 at ${stage}`, { timeout: 60_000 }, async () => {
    const r = await startDaemon(box, { LAFITED_FAULT: stage });
    const frame = await image(stage === "accept.after-commit" ? 40 : 30);
    await assert.rejects(r.admin.acceptNormal({ frame }), /UNAVAILABLE|Connection dropped|ECONNRESET|No connection established/i);
    await r.killed();

    const again = await startDaemon(box);
    try {
      await assertConsistent(box, again, acknowledged);
      const retry = await again.admin.acceptNormal({ frame });
      // Committed before the kill: the retry finds it. Killed before the commit: nothing was recorded, so it is accepted now.
      assert.equal(retry.status, stage === "accept.after-commit" ? AcceptStatus.DUPLICATE : AcceptStatus.ACCEPTED);
      acknowledged.push(retry.acceptedId);
      await assertConsistent(box, again, acknowledged);
    } finally {
      await again.stop();
    }
  });
}
