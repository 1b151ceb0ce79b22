import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { makeTestCerts } from "../support/certs.js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";

const failure = (p: Promise<unknown>) => p.then(() => assert.fail("call succeeded"), (e: unknown) => e as ServiceError);

test("mTLS: requireClientCert refuses clients without a CA-signed certificate; a mapped subject gets its scopes without a token", async () => {
  const c = makeTestCerts();
  const h = await startSecure({
    server: { tls: { cert: c.server.cert, key: c.server.key, clientCa: c.ca.cert, requireClientCert: true } },
    auth: { tokens: [], tokensFile: null, clientCerts: [{ subject: "CN=line-3, O=Acme", scopes: ["detect"] }], openHealth: true, openReflection: true, allowPlaintext: false },
  });
  try {
    const frame = { frameId: "f", image: { case: "encoded" as const, value: await grayPng(30) } };
    const line3 = h.client({ tls: { ca: c.ca.cert, cert: c.client.cert, key: c.client.key } });
    assert.equal((await line3.detectOne(frame)).frameId, "f");
    const denied = await failure(line3.getModelInfo());
    assert.equal(denied.code, status.PERMISSION_DENIED, denied.details);
    assert.match(denied.details, /cert:CN=line-3, O=Acme lacks scope 'read'/);

    const line4 = h.client({ tls: { ca: c.ca.cert, cert: c.client2.cert, key: c.client2.key } });
    const unmapped = await failure(line4.detectOne(frame));
    assert.equal(unmapped.code, status.UNAUTHENTICATED);
    assert.match(unmapped.details, /client certificate \(subject CN=line-4, O=Acme\) is not mapped in auth\.clientCerts/);

    for (const tls of [{ ca: c.ca.cert }, { ca: c.ca.cert, cert: c.rogueClient.cert, key: c.rogueClient.key }]) {
      const e = await failure(h.client({ tls }).detectOne(frame, { timeoutMs: 3000 }));
      assert.ok(e.code === status.UNAVAILABLE || e.code === status.DEADLINE_EXCEEDED, `handshake must fail, got ${status[e.code]}: ${e.details}`);
    }
  } finally {
    await h.stop();
  }
});
