import { test } from "node:test";
import assert from "node:assert/strict";
import { formatSeconds, Progress } from "../../src/util/progress.js";

test("durations roll over at 60 instead of showing 60 seconds or minutes", () => {
  assert.equal(formatSeconds(0), "0s");
  assert.equal(formatSeconds(59.4), "59s");
  assert.equal(formatSeconds(59.6), "1m00s");
  assert.equal(formatSeconds(61), "1m01s");
  assert.equal(formatSeconds(1199.6), "20m00s");
  assert.equal(formatSeconds(1199.4), "19m59s");
  assert.equal(formatSeconds(3599.7), "1h00m");
  assert.equal(formatSeconds(3661), "1h01m");
  assert.equal(formatSeconds(2 * 3600 + 59 * 60 + 45), "3h00m");
  assert.equal(formatSeconds(Number.POSITIVE_INFINITY), "?");
});

test("a progress line's ETA uses the same rollover", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress("fit", 100, { unit: "images", sink: (l) => lines.push(l), now: () => now, intervalMs: 0 });
  now = 1199.6 * 1000; // half done in 1199.6 s: the other half takes as long
  p.tick(50);
  assert.match(lines.at(-1)!, /ETA 20m00s$/);
});
