import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTransportPolicy, isLoopback } from "../../../src/server/transport-policy.js";
import { testConfig } from "../support/harness.js";
import { LafiteError } from "../../../src/util/errors.js";

const authOn = { tokens: [], tokensFile: null, clientCerts: [], openHealth: true, openReflection: true, allowPlaintext: false };

test("auth without TLS on a non-loopback address refuses to start; allowPlaintext overrides with a warning; loopback stays as today", () => {
  assert.throws(
    () => checkTransportPolicy(testConfig({ listen: "0.0.0.0:50051", auth: authOn }), true),
    (e: unknown) => e instanceof LafiteError && e.code === "INVALID_CONFIG" && /server\.tls\.cert.*auth\.allowPlaintext/.test(e.message),
  );
  const allowed = checkTransportPolicy(testConfig({ listen: "0.0.0.0:50051", auth: { ...authOn, allowPlaintext: true } }), true);
  assert.match(allowed.warnings.join("\n"), /in clear/);
  assert.deepEqual(checkTransportPolicy(testConfig({ listen: "127.0.0.1:50051" }), false).warnings, []);
  assert.deepEqual(checkTransportPolicy(testConfig({ listen: "[::1]:50051", auth: authOn }), true).warnings, []);
  assert.match(checkTransportPolicy(testConfig({ listen: "0.0.0.0:50051" }), false).warnings.join("\n"), /without auth/);
  assert.deepEqual([isLoopback("127.0.0.1"), isLoopback("127.1.2.3"), isLoopback("localhost"), isLoopback("::1"), isLoopback("0.0.0.0"), isLoopback("10.0.0.1"), isLoopback("::")], [true, true, true, true, false, false, false]);
});
