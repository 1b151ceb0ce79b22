/** The recent-frame cache: bounded by bytes and by age, and an id naming two images is ambiguous, never guessed. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameCache } from "../../src/server/frame-cache.js";

const frame = (id: string, fill: number, size = 100, origin = "s1") => ({
  frameId: id,
  origin,
  frame: { kind: "encoded" as const, bytes: new Uint8Array(size).fill(fill) },
  score: fill / 255,
  threshold: 0.5,
  anomalous: false,
  modelVersion: "v1",
  classTag: "",
  frameClass: "",
});

test("the oldest frames go when the byte budget is exceeded", () => {
  const cache = new FrameCache(250, 60_000, () => 0);
  cache.put(frame("a", 1));
  cache.put(frame("b", 2));
  cache.put(frame("c", 3));
  assert.deepEqual(cache.stats, { frames: 2, bytes: 200 });
  assert.throws(() => cache.find("a"), /not among the recently scored frames/);
  assert.equal(cache.find("c").score, 3 / 255);
});

test("frames older than maxAgeMs are forgotten", () => {
  let now = 0;
  const cache = new FrameCache(10_000, 1000, () => now);
  cache.put(frame("a", 1));
  now = 600;
  cache.put(frame("b", 2));
  now = 1200;
  assert.throws(() => cache.find("a"), (err: Error & { code?: string }) => err.code === "NOT_FOUND");
  assert.equal(cache.find("b").frameId, "b");
});

test("the same id for different images is ambiguous; the same image twice is not", () => {
  const cache = new FrameCache(10_000, 60_000, () => 0);
  cache.put(frame("7", 1, 100, "cam-A"));
  cache.put(frame("7", 1, 100, "cam-A retry"));
  assert.equal(cache.find("7").origin, "cam-A retry");
  cache.put(frame("7", 9, 100, "cam-B"));
  assert.throws(() => cache.find("7"), (err: Error & { code?: string }) => err.code === "CONFLICT" && /2 different images .*cam-A.*cam-B/.test(err.message));
});

test("a frame larger than the whole budget, or without an id, is not cached", () => {
  const cache = new FrameCache(50, 60_000, () => 0);
  cache.put(frame("big", 1, 100));
  cache.put(frame("", 1, 10));
  assert.deepEqual(cache.stats, { frames: 0, bytes: 0 });
});
