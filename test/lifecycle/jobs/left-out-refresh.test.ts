/**
 * A class short of held-out normals keeps its own threshold through a
 * memory-bank refresh: fit calibrated it on its bank images scored with their
 * own rows left out, and the refresh's re-calibration does the same against
 * the refreshed bank (where those rows are still copies of the images).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { acceptedFrom, fitBundle, jobContext, makeData } from "./support.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-left-out-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("fit and the refresh calibrate a class of 12 training frames (1 held out) on its 11 bank frames left out", async () => {
  const data = join(dir, "normal");
  const more = join(dir, "more");
  await makeData(data, 1, "normal", { train: 12, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  await makeData(more, 3, "normal", { train: 8, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  const base = join(dir, "base");
  await fitBundle(data, base, join(dir, "cache"), { scoring: { mode: "knn" }, diffusion: { preset: "none" } });
  const parent = (await readBundle(base)).manifest;
  const fitted = parent.thresholds!.knn!.classes!.hex_nut!;
  assert.equal(fitted.holdoutImages, 1);
  assert.equal(fitted.leftOutImages, 11);
  // The left-out frames score above the bank's own (they no longer find themselves), so the class threshold is no lower than the
  // one held-out frame's score, which is the model's threshold here.
  assert.ok(fitted.value >= parent.thresholds!.knn!.holdoutScores.max * 0.999, `${fitted.value} vs ${parent.thresholds!.knn!.holdoutScores.max}`);

  // What eval's verdict table says under its rows.
  const detector = await loadDetector(base);
  try {
    assert.deepEqual(detector.info.classLeftOutImages, { hex_nut: 11 });
  } finally {
    await detector.close();
  }

  const out = join(dir, "refreshed");
  await refreshMemoryBank(jobContext("refresh", base, out, await acceptedFrom(more, 8)));
  const m = (await readBundle(out)).manifest;
  const refreshed = m.thresholds!.knn!.classes!.hex_nut!;
  // The refresh holds some accepted frames out too (1 + its own), still under 10: the 11 bank frames are scored left out again.
  assert.ok(refreshed.holdoutImages > 1 && refreshed.holdoutImages < 10, JSON.stringify(refreshed));
  assert.equal(refreshed.leftOutImages, 11);
  assert.notEqual(refreshed.value, fitted.value, "re-measured against the refreshed bank");
});
