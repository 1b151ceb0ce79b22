import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { LafiteError } from "../../src/util/errors.js";

function tmpFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "lafited-config-")), "site.yaml");
  writeFileSync(file, text);
  return file;
}

function configError(text: string): string {
  try {
    loadConfig({ file: tmpFile(text), env: {} });
  } catch (err) {
    assert.ok(err instanceof LafiteError && err.code === "INVALID_CONFIG", String(err));
    return err.message;
  }
  assert.fail("no error");
}

test("defaults: plaintext, auth off, health and reflection open, metrics on 127.0.0.1:9464, no per-client limits", () => {
  const c = loadConfig({ env: {} });
  assert.deepEqual(c.server.tls, { cert: null, key: null, clientCa: null, requireClientCert: false });
  assert.deepEqual(c.auth, { tokens: [], tokensFile: null, clientCerts: [], openHealth: true, openReflection: true, allowPlaintext: false });
  assert.equal(c.metrics.listen, "127.0.0.1:9464");
  assert.deepEqual(c.limits.perPeer, { maxStreams: null, framesPerSecond: null });
  assert.deepEqual(c.limits.perToken, { framesPerSecond: null });
  assert.equal(loadConfig({ env: { LAFITED_METRICS_LISTEN: "null" } }).metrics.listen, null);
  assert.equal(loadConfig({ env: { LAFITED_METRICS_LISTEN: "[::1]:9100" } }).metrics.listen, "[::1]:9100");
});

test("TLS and token paths in a config file resolve against its folder; only the keys given change", () => {
  const file = tmpFile("server:\n  tls:\n    cert: tls/s.crt\n    key: tls/s.key\nauth:\n  tokensFile: tokens.yaml\n");
  const c = loadConfig({ file, env: {} });
  const dir = path.dirname(file);
  assert.equal(c.server.tls.cert, path.join(dir, "tls/s.crt"));
  assert.equal(c.server.tls.key, path.join(dir, "tls/s.key"));
  assert.equal(c.server.tls.clientCa, null);
  assert.equal(c.auth.tokensFile, path.join(dir, "tokens.yaml"));
  assert.equal(c.server.maxReceiveMessageBytes, 33554432);
});

test("errors name the key: half a TLS pair, requireClientCert without clientCa, a bad token hash or scope, a bad subject, a bad rate", () => {
  assert.match(configError("server:\n  tls:\n    cert: a.crt\n"), /server\.tls: cert and key must be set together/);
  assert.match(configError("server:\n  tls:\n    cert: a.crt\n    key: a.key\n    requireClientCert: true\n"), /server\.tls: requireClientCert needs clientCa/);
  assert.match(configError("auth:\n  tokens:\n    - {name: x, sha256: abc, scopes: [detect]}\n"), /auth\.tokens\.0\.sha256: must be 64 hex digits/);
  assert.match(configError(`auth:\n  tokens:\n    - {name: x, sha256: ${"a".repeat(64)}, scopes: [root]}\n`), /auth\.tokens\.0\.scopes\.0/);
  assert.match(configError(`auth:\n  tokens:\n    - {name: x, sha256: ${"a".repeat(64)}, scopes: [read]}\n    - {name: x, sha256: ${"b".repeat(64)}, scopes: [read]}\n`), /auth\.tokens: token names must be unique/);
  assert.match(configError("auth:\n  clientCerts:\n    - {subject: line-3, scopes: [detect]}\n"), /auth\.clientCerts\.0\.subject: must be attribute=value pairs/);
  assert.match(configError("limits:\n  perToken:\n    framesPerSecond: -5\n"), /limits\.perToken\.framesPerSecond/);
  assert.match(configError("metrics:\n  listen: nowhere\n"), /metrics\.listen: must be host:port/);
  assert.match(configError("auth:\n  token: []\n"), /auth\.token: unknown key/);
});
