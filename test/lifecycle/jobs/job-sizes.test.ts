/**
 * A refresh keeps a model's size correction and calibrates with it: with a
 * trend that doubles every frame's score (its range pinned at one size, so
 * the clamp gives every frame the same factor), the candidate's thresholds
 * are exactly twice those of the same refresh without it, and the trend,
 * which frames of one size cannot re-measure, is kept as it was. Its
 * calibration's progress counts the size pass, and the edge pass, over the
 * same held-out maps.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm, writeFile, cp } from "node:fs/promises";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { detailInUse } from "../../../src/model/scoring/detail-bank.js";
import { acceptedFrom, jobContext, knnBundleAndShiftedFrames } from "./support.js";

let dir = "";
let base = "";
let shifted = "";
before(async () => {
  ({ dir, base, shifted } = await knnBundleAndShiftedFrames("lafite-jobs-sizes-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a refresh calibrates with the size correction and keeps a trend its frames of one size cannot measure again", async () => {
  const withSizes = join(dir, "with-sizes");
  await cp(base, withSizes, { recursive: true });
  const manifestPath = join(withSizes, "manifest.json");
  const m = JSON.parse(await readFile(manifestPath, "utf8")) as { scoring: Record<string, unknown> };
  // (200 / 100)^1 = 2 for every frame: its long side is clamped to 200.
  const trend = { slope: -1, center: Math.log(100), minSide: 200, maxSide: 200 };
  m.scoring.sizes = { mode: "knn", classes: { hex_nut: trend } };
  await writeFile(manifestPath, JSON.stringify(m));
  const accepted = await acceptedFrom(shifted, 6);
  const plainOut = join(dir, "plain-out");
  const sizedOut = join(dir, "sized-out");
  const plainCtx = jobContext("refresh", base, plainOut, accepted);
  const sizedCtx = jobContext("refresh", withSizes, sizedOut, accepted);
  await refreshMemoryBank(plainCtx);
  await refreshMemoryBank(sizedCtx);
  // The calibration's progress counts the size pass too (one scoring per tagged, sized held-out map) and ends at its total.
  const calibration = (c: typeof plainCtx) => c.reports.filter((r) => r.message.includes("threshold calibration"));
  for (const c of [plainCtx, sizedCtx]) {
    const reports = calibration(c);
    assert.ok(reports.length > 0 && reports.every((r) => r.done <= r.total), JSON.stringify(reports.slice(-3)));
    assert.equal(reports.at(-1)!.done, reports.at(-1)!.total);
  }
  // And the edge pass: a third refresh with an edge profile too. Both passes score the same maps (every held-out map is
  // a tagged hex_nut frame of known size), so each adds the same count to the total.
  const edged = join(dir, "with-edges");
  await cp(withSizes, edged, { recursive: true });
  const em = JSON.parse(await readFile(join(edged, "manifest.json"), "utf8")) as { scoring: Record<string, unknown> };
  em.scoring.edges = { mode: "knn", reach: 32, classes: { hex_nut: Array<number>(33).fill(0) } };
  await writeFile(join(edged, "manifest.json"), JSON.stringify(em));
  const edgedCtx = jobContext("refresh", edged, join(dir, "edged-out"), accepted);
  await refreshMemoryBank(edgedCtx);
  const totalOf = (c: typeof plainCtx) => calibration(c).at(-1)!.total;
  assert.equal(calibration(edgedCtx).at(-1)!.done, totalOf(edgedCtx));
  const sizePass = totalOf(sizedCtx) - totalOf(plainCtx);
  const edgePass = totalOf(edgedCtx) - totalOf(sizedCtx);
  assert.ok(edgePass > 0);
  // With the detail bank in use the sized mode is also scored again after it (its sweep's scores are taken without the
  // size correction): one more pass over the same maps.
  const detailOn = detailInUse((await readBundle(base)).manifest.scoring.detail);
  assert.equal(sizePass, detailOn ? 2 * edgePass : edgePass);
  const plain = (await readBundle(plainOut)).manifest;
  const sized = (await readBundle(sizedOut)).manifest;
  assert.deepEqual(sized.scoring.sizes, { mode: "knn", classes: { hex_nut: trend } });
  assert.equal(plain.scoring.sizes, undefined);
  const ratio = (a: number, b: number) => a / b;
  assert.ok(Math.abs(ratio(sized.thresholds!.knn!.value, plain.thresholds!.knn!.value) - 2) < 1e-5, `${sized.thresholds!.knn!.value} against ${plain.thresholds!.knn!.value}`);
  const own = (x: typeof plain) => x.thresholds!.knn!.classes?.["hex_nut"]?.value;
  if (own(plain) !== undefined) assert.ok(Math.abs(own(sized)! / own(plain)! - 2) < 1e-5);
  // The edit-only scores it was not measured in: untouched.
  assert.ok(Math.abs(sized.thresholds!["edit-only"]!.value - plain.thresholds!["edit-only"]!.value) < 1e-9 * plain.thresholds!["edit-only"]!.value);
});
