import { test } from "node:test";
import assert from "node:assert/strict";
import { ClientLimits } from "../../../src/server/limits/client-limits.js";
import { TokenBuckets } from "../../../src/server/limits/token-bucket.js";
import { LafiteError } from "../../../src/util/errors.js";

test("a token bucket allows one second's burst, then the rate, per key", () => {
  let now = 0;
  const b = new TokenBuckets(4, () => now);
  const takes = (key: string, n: number) => Array.from({ length: n }, () => b.take(key)).filter(Boolean).length;
  assert.equal(takes("a", 10), 4, "burst of 4");
  assert.equal(takes("b", 10), 4, "another key has its own bucket");
  now += 500;
  assert.equal(takes("a", 10), 2, "half a second refills 2");
  now += 10_000;
  assert.equal(takes("a", 10), 4, "never more than the burst");
});

test("per-peer stream and frame limits count each peer on its own and name the limit", () => {
  let now = 0;
  const refused: string[] = [];
  const limits = new ClientLimits({ perPeer: { maxStreams: 2, framesPerSecond: 3 }, perToken: { framesPerSecond: 2 } }, (l) => refused.push(l), () => now);
  const a1 = limits.openStream("10.0.0.1");
  limits.openStream("10.0.0.1");
  assert.throws(() => limits.openStream("10.0.0.1"), (e: unknown) => e instanceof LafiteError && e.code === "RATE_LIMITED" && /limits\.perPeer\.maxStreams/.test(e.message));
  limits.openStream("10.0.0.2"); // the other line is not affected
  a1();
  a1(); // releasing twice counts once
  assert.equal(limits.openStreams("10.0.0.1"), 1);
  limits.openStream("10.0.0.1");

  const admitted = (peer: string, token: string | undefined, n: number) => Array.from({ length: n }, () => limits.admitFrame(peer, token)).filter((r) => r === undefined).length;
  assert.equal(admitted("10.0.0.1", undefined, 10), 3);
  assert.equal(admitted("10.0.0.2", undefined, 10), 3, "a flooding peer does not use up another peer's rate");
  const over = limits.admitFrame("10.0.0.1", undefined);
  assert.match(over?.message ?? "", /frame rate limit of 10\.0\.0\.1 hit: at most 3 frames per second \(config limits\.perPeer\.framesPerSecond\)/);
  now += 1000;
  assert.equal(admitted("10.0.0.3", "token:x", 10), 2, "the token limit is the tighter one here");
  assert.match(limits.admitFrame("10.0.0.4", "token:x")?.message ?? "", /token:x .*limits\.perToken\.framesPerSecond/);
  assert.deepEqual([...new Set(refused)].sort(), ["perPeer.framesPerSecond", "perPeer.maxStreams", "perToken.framesPerSecond"]);
});
