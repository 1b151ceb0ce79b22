import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { startSecure } from "../support/secure-harness.js";
import { grayPng } from "../support/fake-detector.js";
import { tokenHash } from "../../../src/server/auth/tokens.js";
import { ServingStatus } from "../../../src/server/client.js";

const failure = (p: Promise<unknown>) => p.then(() => assert.fail("call succeeded"), (e: unknown) => e as ServiceError);
const auth = (over: object = {}) => ({
  tokens: [
    { name: "line-1", sha256: tokenHash("detect-secret-1"), scopes: ["detect" as const] },
    { name: "dashboard", sha256: tokenHash("read-secret-2"), scopes: ["read" as const] },
  ],
  tokensFile: null,
  clientCerts: [],
  openHealth: true,
  openReflection: true,
  allowPlaintext: false,
  ...over,
});

test("bearer tokens: none or unknown → UNAUTHENTICATED, wrong scope → PERMISSION_DENIED, right scope → served; health and reflection open", async () => {
  const h = await startSecure({ auth: auth() });
  try {
    const frame = { frameId: "f", image: { case: "encoded" as const, value: await grayPng(30) } };
    const anonymous = h.client();
    const none = await failure(anonymous.detectOne(frame));
    assert.equal(none.code, status.UNAUTHENTICATED);
    assert.match(none.details, /needs credentials/);
    const unknown = await failure(h.client({ token: "guessed" }).detectOne(frame));
    assert.equal(unknown.code, status.UNAUTHENTICATED);
    assert.match(unknown.details, /unknown or revoked token/);

    const line = h.client({ token: "detect-secret-1" });
    assert.equal((await line.detectOne(frame)).frameId, "f");
    const stream = line.openDetect();
    await stream.send(frame);
    stream.end();
    const got: string[] = [];
    for await (const r of stream) got.push(r.frameId);
    assert.deepEqual(got, ["f"]);
    const lineInfo = await failure(line.getModelInfo());
    assert.equal(lineInfo.code, status.PERMISSION_DENIED);
    assert.match(lineInfo.details, /token:line-1 lacks scope 'read' needed by \/lafited\.v1\.Detector\/GetModelInfo/);

    const dashboard = h.client({ token: "read-secret-2" });
    assert.equal((await dashboard.getModelInfo()).version, "fake-1");
    const dashDetect = await failure(dashboard.detectOne(frame));
    assert.equal(dashDetect.code, status.PERMISSION_DENIED);
    const dashStream = dashboard.openDetect();
    dashStream.sendNow(frame);
    for await (const _ of dashStream) assert.fail("no frame may be answered");
    assert.equal((await dashStream.status).code, status.PERMISSION_DENIED);

    assert.equal(await anonymous.health(), ServingStatus.SERVING);
    const listed = await anonymous.reflect({ messageRequest: { case: "listServices", value: "" } });
    assert.equal(listed.messageResponse.case, "listServicesResponse");
  } finally {
    await h.stop();
  }
});

test("auth.openHealth/openReflection false: health and reflection need a known token (any scope)", async () => {
  const h = await startSecure({ auth: auth({ openHealth: false, openReflection: false }) });
  try {
    const anonymous = h.client();
    assert.equal((await failure(anonymous.health())).code, status.UNAUTHENTICATED);
    assert.equal((await failure(anonymous.reflect({ messageRequest: { case: "listServices", value: "" } }))).code, status.UNAUTHENTICATED);
    assert.equal(await h.client({ token: "read-secret-2" }).health(), ServingStatus.SERVING);
  } finally {
    await h.stop();
  }
});

test("a malformed authorization header is UNAUTHENTICATED", async () => {
  const h = await startSecure({ auth: auth() });
  try {
    const e = await failure(h.client({ token: "two words" }).getModelInfo());
    assert.equal(e.code, status.UNAUTHENTICATED);
    assert.match(e.details, /Bearer <token>/);
  } finally {
    await h.stop();
  }
});
