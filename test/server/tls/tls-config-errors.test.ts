import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chmodSync, copyFileSync, writeFileSync } from "node:fs";
import { makeTestCerts } from "../support/certs.js";
import { readTlsMaterial } from "../../../src/server/tls/tls-material.js";
import { LafiteError } from "../../../src/util/errors.js";

test("TLS file problems are INVALID_CONFIG errors that name the config key", () => {
  const c = makeTestCerts();
  const tls = (over: Partial<{ cert: string; key: string; clientCa: string | null }>) => ({ cert: c.server.cert, key: c.server.key, clientCa: null, requireClientCert: false, ...over });
  const fails = (t: ReturnType<typeof tls>, pattern: RegExp, now?: Date) =>
    assert.throws(
      () => readTlsMaterial(t, now),
      (e: unknown) => e instanceof LafiteError && e.code === "INVALID_CONFIG" && pattern.test(e.message),
    );

  assert.equal(readTlsMaterial(tls({}))?.subject, "CN=lafited-server-1");
  fails(tls({ cert: path.join(c.dir, "nope.crt") }), /^server\.tls\.cert: cannot read .*nope\.crt: no such file/);
  fails(tls({ key: path.join(c.dir, "nope.key") }), /^server\.tls\.key: cannot read/);
  fails(tls({ clientCa: path.join(c.dir, "nope-ca.crt") }), /^server\.tls\.clientCa: cannot read/);
  const garbage = path.join(c.dir, "garbage.pem");
  writeFileSync(garbage, "not a certificate\n");
  fails(tls({ cert: garbage }), /^server\.tls\.cert: .* holds no PEM certificate/);
  fails(tls({ key: garbage }), /^server\.tls\.key: .* is not a readable PEM private key/);
  fails(tls({ key: c.server2.key }), /^server\.tls\.key: .* does not match the certificate in server\.tls\.cert/);
  // The test certificates are valid for 2 days: three days on they have expired.
  fails(tls({}), /^server\.tls\.cert: the certificate in .* expired on/, new Date(Date.now() + 3 * 86400_000));
  fails(tls({}), /^server\.tls\.cert: the certificate in .* is not valid before/, new Date(Date.now() - 86400_000));
  if (process.getuid?.() !== 0) {
    const locked = path.join(c.dir, "locked.key");
    copyFileSync(c.server.key, locked);
    chmodSync(locked, 0);
    fails(tls({ key: locked }), /^server\.tls\.key: cannot read .*: permission denied/);
  }
});
