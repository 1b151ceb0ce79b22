import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { makeTestCerts } from "../support/certs.js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";
import { ServingStatus } from "../../../src/server/client.js";

test("with server.tls a client trusting the CA is served; a plaintext client is not", async () => {
  const certs = makeTestCerts();
  const h = await startSecure({ server: { tls: { cert: certs.server.cert, key: certs.server.key, clientCa: null, requireClientCert: false } } });
  try {
    const secure = h.client({ tls: { ca: certs.ca.cert } });
    assert.equal(await secure.health(), ServingStatus.SERVING);
    const res = await secure.detectOne({ frameId: "a", image: { case: "encoded", value: await grayPng(200) } });
    assert.equal(res.frameId, "a");
    assert.equal(res.error, undefined);

    const plain = h.client();
    const err = await plain.health("", { timeoutMs: 3000 }).then(
      () => assert.fail("a plaintext client must not be served"),
      (e: unknown) => e as ServiceError,
    );
    assert.ok(err.code === status.UNAVAILABLE || err.code === status.DEADLINE_EXCEEDED, `got ${status[err.code]}: ${err.details}`);
    assert.equal(h.server.certificate?.subject, "CN=lafited-server-1");
  } finally {
    await h.stop();
  }
});
