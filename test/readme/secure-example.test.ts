import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { status, type ServiceError } from "@grpc/grpc-js";
import { loadConfig } from "../../src/config/load.js";
import { LafitedServer } from "../../src/server/server.js";
import { LafitedClient } from "../../src/server/client.js";
import { channelCredentials } from "../../src/server/client-credentials.js";
import { checkTransportPolicy } from "../../src/server/transport-policy.js";
import { silentLogger } from "../../src/util/log.js";
import { FakeDetector, grayPng } from "../server/support/fake-detector.js";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

/** The fenced block right after `<!-- readme-test: NAME -->`. */
function block(name: string): string {
  const text = readFileSync(README, "utf8");
  const m = new RegExp(`<!-- readme-test: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(text);
  assert.ok(m, `README has no block ${name}`);
  return m[1]!;
}

test("the README's TLS + token example works as written", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-readme-"));
  execFileSync("bash", ["-euo", "pipefail", "-c", `${block("secure-setup")}\nprintf %s "$TOKEN" > token`], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const token = readFileSync(path.join(dir, "token"), "utf8");
  const hash = readFileSync(path.join(dir, "token.sha256"), "utf8").trim();
  const file = path.join(dir, "lafited.yaml");
  writeFileSync(file, block("secure-config").replace("<contents of token.sha256>", hash));

  const asWritten = loadConfig({ file, env: {} });
  assert.equal(asWritten.server.tls.cert, path.join(dir, "server.crt"), "paths resolve against the config file's folder");
  assert.deepEqual(checkTransportPolicy(asWritten, true).warnings, [], "the example starts on 0.0.0.0: TLS is on");

  // The test binds loopback only, and no metrics port.
  const config = loadConfig({ file, env: { LAFITED_LISTEN: "127.0.0.1:0", LAFITED_METRICS_LISTEN: "null" } });
  const server = new LafitedServer({ config, log: silentLogger(), provider: async () => new FakeDetector() });
  const port = await server.listen();
  await server.loadModel();
  const clients: LafitedClient[] = [];
  const client = (t?: string) => {
    const c = new LafitedClient(`localhost:${port}`, { credentials: channelCredentials({ ca: path.join(dir, "ca.crt") }), ...(t ? { token: t } : {}) });
    clients.push(c);
    return c;
  };
  try {
    const frame = { frameId: "f", image: { case: "encoded" as const, value: await grayPng(50) } };
    assert.equal((await client(token).detectOne(frame)).frameId, "f");
    assert.equal((await client(token).getModelInfo()).version, "fake-1");
    const anonymous = await client().detectOne(frame).then(() => assert.fail("served without a token"), (e: unknown) => e as ServiceError);
    assert.equal(anonymous.code, status.UNAUTHENTICATED);
  } finally {
    for (const c of clients) c.close();
    await server.shutdown(1000);
  }
});
