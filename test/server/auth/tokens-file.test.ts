import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { status, type ServiceError } from "@grpc/grpc-js";
import { startSecure } from "../support/secure-harness.js";
import { tokenHash, loadCredentials } from "../../../src/server/auth/tokens.js";
import { LafiteError } from "../../../src/util/errors.js";

const failure = (p: Promise<unknown>) => p.then(() => assert.fail("call succeeded"), (e: unknown) => e as ServiceError);
const baseAuth = { tokens: [], clientCerts: [], openHealth: true, openReflection: true, allowPlaintext: false };

test("auth.tokensFile: entries are loaded, and re-read on reload (SIGHUP) so a token can be revoked without a restart", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-tokens-"));
  const file = path.join(dir, "tokens.yaml");
  writeFileSync(file, `- name: reader\n  sha256: ${tokenHash("t-read")}\n  scopes: [read]\n`);
  const h = await startSecure({ auth: { ...baseAuth, tokensFile: file } });
  try {
    const reader = h.client({ token: "t-read" });
    assert.equal((await reader.getModelInfo()).version, "fake-1");
    writeFileSync(file, JSON.stringify([{ name: "other", sha256: tokenHash("t-other"), scopes: ["read"] }]));
    await h.server.reload();
    assert.equal((await failure(reader.getModelInfo())).code, status.UNAUTHENTICATED);
    assert.equal((await h.client({ token: "t-other" }).getModelInfo()).version, "fake-1");

    writeFileSync(file, "- {name: broken}\n");
    await h.server.reload(); // a broken file keeps the previous credentials
    assert.equal((await h.client({ token: "t-other" }).getModelInfo()).version, "fake-1");
  } finally {
    await h.stop();
  }
});

test("a bad tokens file or duplicate names are INVALID_CONFIG errors naming the key", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-tokens-"));
  const file = path.join(dir, "tokens.yaml");
  const fails = (auth: Parameters<typeof loadCredentials>[0], pattern: RegExp) =>
    assert.throws(() => loadCredentials(auth), (e: unknown) => e instanceof LafiteError && e.code === "INVALID_CONFIG" && pattern.test(e.message));
  fails({ ...baseAuth, tokensFile: path.join(dir, "missing.yaml") }, /^auth\.tokensFile: cannot read .*missing\.yaml: ENOENT/);
  writeFileSync(file, "- name: x\n  sha256: abc\n  scopes: [detect]\n");
  fails({ ...baseAuth, tokensFile: file }, /^auth\.tokensFile: .*0\.sha256: must be 64 hex digits/);
  writeFileSync(file, `- {name: a, sha256: ${tokenHash("1")}, scopes: [detect]}\n`);
  fails({ ...baseAuth, tokens: [{ name: "a", sha256: tokenHash("2"), scopes: ["read"] }], tokensFile: file }, /token name 'a' is used twice/);
  fails(
    { ...baseAuth, tokens: [{ name: "a", sha256: tokenHash("1"), scopes: ["read"] }, { name: "b", sha256: tokenHash("1"), scopes: ["read"] }], tokensFile: null },
    /tokens 'a' and 'b' have the same sha256/,
  );
});
