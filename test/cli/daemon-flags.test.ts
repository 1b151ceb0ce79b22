import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { makeTestCerts } from "../server/support/certs.js";
import { startSecure } from "../server/support/secure-harness.js";
import { grayPng } from "../server/support/fake-detector.js";
import { tokenHash } from "../../src/server/auth/tokens.js";
import { writeFileSync } from "node:fs";
import path from "node:path";

const LAFITE = fileURLToPath(new URL("../../../bin/lafite.js", import.meta.url));

function lafite(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAFITE, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test("lafite health/detect take --tls-ca, --tls-cert, --tls-key and --token (or LAFITED_TOKEN)", async () => {
  const c = makeTestCerts();
  const h = await startSecure({
    server: { tls: { cert: c.server.cert, key: c.server.key, clientCa: c.ca.cert, requireClientCert: true } },
    auth: { tokens: [{ name: "line", sha256: tokenHash("tok-1"), scopes: ["detect"] }], tokensFile: null, clientCerts: [], openHealth: false, openReflection: true, allowPlaintext: false },
  });
  try {
    const tls = ["--tls-ca", c.ca.cert, "--tls-cert", c.client.cert, "--tls-key", c.client.key];
    const server = ["--server", `localhost:${h.address.split(":")[1]}`];
    assert.deepEqual(await lafite(["health", ...server, ...tls, "--token", "tok-1"]).then((r) => [r.code, r.stdout]), [0, "SERVING\n"]);
    assert.deepEqual(await lafite(["health", ...server, ...tls], { LAFITED_TOKEN: "tok-1" }).then((r) => [r.code, r.stdout]), [0, "SERVING\n"]);
    const noToken = await lafite(["health", ...server, ...tls]);
    assert.equal(noToken.code, 1);
    assert.equal(noToken.stdout, "DENIED\n");
    assert.match(noToken.stderr, /UNAUTHENTICATED/);
    const noCert = await lafite(["health", ...server, "--tls-ca", c.ca.cert, "--token", "tok-1", "--timeout", "2"]);
    assert.equal(noCert.code, 1);
    assert.equal(noCert.stdout, "UNREACHABLE\n");
    const halfPair = await lafite(["health", ...server, "--tls-cert", c.client.cert]);
    assert.equal(halfPair.code, 1);
    assert.match(halfPair.stderr, /--tls-cert and --tls-key go together/);
    const missing = await lafite(["health", ...server, "--tls-ca", path.join(c.dir, "nope.pem")]);
    assert.match(missing.stderr, /--tls-ca: cannot read .*nope\.pem: ENOENT/);

    const img = path.join(c.dir, "frame.png");
    writeFileSync(img, await grayPng(40));
    const detect = await lafite(["detect", ...server, ...tls, "--token", "tok-1", img]);
    assert.equal(detect.code, 0, detect.stderr);
    assert.match(detect.stdout, /^frame\.png\t0\.156863\tOK\t/);
    assert.ok(!detect.stderr.includes("tok-1") && !detect.stdout.includes("tok-1"));
  } finally {
    await h.stop();
  }
});
