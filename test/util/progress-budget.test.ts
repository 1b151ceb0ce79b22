import { test } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "../../src/util/progress.js";

test("progress with a time budget: the ETA is the budget's when it ends first, and an open-ended total shows no /total", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress("train", Number.MAX_SAFE_INTEGER, { unit: "steps", sink: (l) => lines.push(l), intervalMs: 0, now: () => now, remainingSeconds: (byRate) => Math.min(byRate, 90) });
  now = 10_000;
  p.tick(20); // 2 steps/s; the rate's ETA is astronomical, the budget's is 90 s
  assert.equal(lines.at(-1), "train: 20 steps 2.0 steps/s ETA 1m30s");
  const q = new Progress("train", 100, { unit: "steps", sink: (l) => lines.push(l), intervalMs: 0, now: () => now, remainingSeconds: (byRate) => Math.min(byRate, 90) });
  now = 20_000;
  q.tick(50); // 5 steps/s: the 50 steps left take 10 s, before the budget
  assert.equal(lines.at(-1), "train: 50/100 steps 5.0 steps/s ETA 10s");
});
