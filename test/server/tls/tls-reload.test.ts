import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync } from "node:fs";
import { connect } from "node:tls";
import { readFileSync } from "node:fs";
import { makeTestCerts } from "../support/certs.js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";
import path from "node:path";
import { until } from "../../support/until.js";

/** The fingerprint of the certificate a fresh TLS (h2) connection to the server sees. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca: readFileSync(ca), servername: "localhost", ALPNProtocols: ["h2"] }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fp);
    });
    socket.on("error", reject);
  });
}

test("reload (SIGHUP) serves a new certificate to new connections while an open stream keeps going", async () => {
  const certs = makeTestCerts();
  // The config names fixed paths; the operator replaces the files, then sends SIGHUP.
  const cert = path.join(certs.dir, "live.crt");
  const key = path.join(certs.dir, "live.key");
  copyFileSync(certs.server.cert, cert);
  copyFileSync(certs.server.key, key);
  const h = await startSecure({ server: { tls: { cert, key, clientCa: null, requireClientCert: false } } });
  try {
    const port = Number(h.address.split(":")[1]);
    const before = await servedFingerprint(port, certs.ca.cert);
    const client = h.client({ tls: { ca: certs.ca.cert } });
    const stream = client.openDetect();
    const ids: string[] = [];
    const reading = (async () => {
      for await (const r of stream) {
        assert.equal(r.error, undefined);
        ids.push(r.frameId);
      }
    })();
    const png = await grayPng(100);
    await stream.send({ frameId: "before", image: { case: "encoded", value: png } });
    await until(() => ids.length === 1);

    copyFileSync(certs.server2.cert, cert);
    copyFileSync(certs.server2.key, key);
    await h.server.reload();
    assert.equal(h.server.certificate?.subject, "CN=lafited-server-2");

    const after = await servedFingerprint(port, certs.ca.cert);
    assert.notEqual(after, before, "a new connection sees the new certificate");
    await stream.send({ frameId: "after", image: { case: "encoded", value: png } });
    stream.end();
    await reading;
    assert.deepEqual(ids, ["before", "after"], "the stream opened before the reload was not dropped");
    assert.equal((await stream.status).code, 0);

    // A bad replacement (key of another certificate) is refused; the last good certificate stays.
    copyFileSync(certs.server.key, key);
    await h.server.reload();
    assert.equal(h.server.certificate?.subject, "CN=lafited-server-2");
    assert.equal(await servedFingerprint(port, certs.ca.cert), after);
  } finally {
    await h.stop();
  }
});
