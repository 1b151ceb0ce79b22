/** Until auth exists, ModelAdmin answers loopback peers only, unless admin.allowRemote. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { status as Status } from "@grpc/grpc-js";
import { isLoopbackPeer } from "../../src/server/peer.js";
import { startAdminHarness } from "./support/admin-harness.js";
import { AdminService } from "../../src/server/admin-service.js";
import { FrameCache } from "../../src/server/frame-cache.js";
import { silentLogger } from "../../src/util/log.js";

test("loopback peers are recognised in every form grpc-js reports", () => {
  for (const p of ["127.0.0.1:5000", "127.8.9.1:1", "::1:5000", "[::1]:5000", "::ffff:127.0.0.1:5000"]) assert.equal(isLoopbackPeer(p), true, p);
  for (const p of ["10.0.0.5:5000", "192.168.1.2:1", "::ffff:10.0.0.1:80", "fe80::1:80", "unknown", ""]) assert.equal(isLoopbackPeer(p), false, p);
});

test("a remote peer gets PERMISSION_DENIED; with allowRemote it is served", async () => {
  const h = await startAdminHarness();
  try {
    const call = (service: AdminService) =>
      new Promise<{ code?: number; details?: string } | null>((resolve) =>
        service.impl.listModels({ getPeer: () => "10.1.2.3:4444", request: {}, getPath: () => "/x" } as never, (err) => resolve(err as { code?: number } | null)),
      );
    const base = { lifecycle: h.lifecycle, cache: new FrameCache(0, 0), scoreImage: async () => ({ score: 0, threshold: 1, modelVersion: "v1" }), log: silentLogger() };
    const denied = await call(new AdminService({ ...base, allowRemote: () => false }));
    assert.equal(denied?.code, Status.PERMISSION_DENIED);
    assert.match(denied?.details ?? "", /loopback only \(peer 10\.1\.2\.3:4444\).*admin\.allowRemote/);
    assert.equal(await call(new AdminService({ ...base, allowRemote: () => true })), null);
    // The real server, reached over loopback, answers.
    assert.equal((await h.admin.listModels()).activeVersion, "v1");
  } finally {
    await h.stop();
  }
});
