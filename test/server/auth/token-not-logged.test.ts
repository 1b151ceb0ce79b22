import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createLogger } from "../../../src/util/log.js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";
import { tokenHash } from "../../../src/server/auth/tokens.js";

test("tokens never appear in the daemon's log, even at trace level and for refused calls", async () => {
  let log = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  const good = "s3cret-detect-token-AAAA";
  const bad = "s3cret-wrong-token-BBBB";
  const h = await startSecure(
    {
      auth: { tokens: [{ name: "line-1", sha256: tokenHash(good), scopes: ["detect"] }], tokensFile: null, clientCerts: [], openHealth: true, openReflection: true, allowPlaintext: false },
      log: { level: "trace" },
    },
    { log: createLogger({ level: "trace", destination: sink }) },
  );
  try {
    const frame = { frameId: "f", image: { case: "encoded" as const, value: await grayPng(30) } };
    await h.client({ token: good }).detectOne(frame);
    await h.client({ token: good }).getModelInfo().catch(() => undefined);
    await h.client({ token: bad }).detectOne(frame).catch(() => undefined);
    const s = h.client({ token: good }).openDetect();
    await s.send({ frameId: "g", image: { case: "encoded", value: Buffer.from("not an image") } });
    s.end();
    for await (const _ of s);
    await h.server.reload();
  } finally {
    await h.stop();
  }
  assert.match(log, /call refused/, "refusals are logged");
  assert.match(log, /token:line-1/, "the token's name is logged");
  assert.ok(!log.includes(good), "the good token leaked into the log");
  assert.ok(!log.includes(bad), "the wrong token leaked into the log");
  assert.ok(!log.includes(tokenHash(good)), "the token hash leaked into the log");
});
