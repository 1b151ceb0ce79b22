/**
 * A refresh measures a model's position profiles again on its held-out
 * normals and calibrates with them: the candidate's profile is built from
 * exactly those maps (their fingerprints are its members), it serves, its
 * calibration's progress counts the pass, and the mode it was not measured
 * in keeps the thresholds a refresh without a profile gives. A held-out
 * frame tagged as a profiled class that reads as another class does not
 * calibrate that class's threshold.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { baseHoldoutMaps, calibrateThresholds } from "../../../src/lifecycle/jobs/calibrate.js";
import { openActiveModel } from "../../../src/lifecycle/jobs/active-model.js";
import { featuresOfFiles } from "../../../src/lifecycle/jobs/frame-features.js";
import { rowClassesPart } from "../../../src/model/bundle.js";
import { scanDataset } from "../../../src/dataset/mvtec-layout.js";
import { readBundle } from "../../../src/model/bundle.js";
import { fitModel } from "../../../src/pipeline/fit.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { parseModelConfig } from "../../../src/model/model-config.js";
import { PROFILE_GRID, ProfileSums } from "../../../src/model/scoring/position-profile.js";
import { createRng } from "../../../src/util/random.js";
import { acceptedFrom, jobContext, makeData, quiet } from "./support.js";

let dir = "";
let base = "";
let shifted = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-jobs-profiles-"));
  const normal = join(dir, "normal");
  shifted = join(dir, "shifted");
  base = join(dir, "base");
  await makeData(normal, 1, "normal", { train: 36, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  await makeData(shifted, 2, "shifted", { train: 6, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  // A third held out: 12 normals of one size, enough for a profile.
  await fitModel({ data: normal, out: base, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" }, threshold: { holdout: 0.34 } }), cacheDir: join(dir, "cache"), tune: false, log: quiet, progressSink: quiet });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a refresh measures the position profile again on its held-out normals and calibrates with it", async () => {
  const held = (await readBundle(base)).manifest.provenance.holdoutFiles ?? [];
  assert.ok(held.length >= 10, `${held.length} held out`);
  // An arbitrary profile of ten made-up normals: the refresh must replace it.
  const rng = createRng(4);
  const sums = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
  for (let k = 0; k < 10; k++) sums.add(Float32Array.from({ length: PROFILE_GRID * PROFILE_GRID }, () => 5 + rng.normal()));
  const old = { members: Array.from({ length: 10 }, (_, k) => 9_000_000 + k), ...sums.record() };
  const profiled = join(dir, "profiled");
  await cp(base, profiled, { recursive: true });
  const manifestPath = join(profiled, "manifest.json");
  const m = JSON.parse(await readFile(manifestPath, "utf8")) as { scoring: Record<string, unknown> };
  m.scoring.profiles = { mode: "knn", grid: PROFILE_GRID, classes: { hex_nut: old } };
  await writeFile(manifestPath, JSON.stringify(m));

  const accepted = await acceptedFrom(shifted, 6);
  const plainCtx = jobContext("refresh", base, join(dir, "plain-out"), accepted);
  const profiledCtx = jobContext("refresh", profiled, join(dir, "profiled-out"), accepted);
  await refreshMemoryBank(plainCtx);
  await refreshMemoryBank(profiledCtx);
  const plain = (await readBundle(join(dir, "plain-out"))).manifest;
  const candidate = (await readBundle(join(dir, "profiled-out"))).manifest;
  const again = candidate.scoring.profiles!.classes["hex_nut"]!;
  // Every held-out map is a tagged hex_nut frame of one size: fit's held-out files and the accepted frames the job held out.
  assert.ok(again.members.length >= held.length, `${again.members.length} members for ${held.length} held-out files`);
  assert.equal(new Set(again.members).size, again.members.length);
  assert.ok(!again.members.some((f) => old.members.includes(f)));
  assert.notDeepEqual(again.sum, old.sum);
  // The calibration's progress counts one scoring per profiled map beyond the plain refresh's, and ends at its total.
  const calibration = (c: typeof plainCtx) => c.reports.filter((r) => r.message.includes("threshold calibration"));
  for (const c of [plainCtx, profiledCtx]) assert.equal(calibration(c).at(-1)!.done, calibration(c).at(-1)!.total);
  assert.equal(calibration(profiledCtx).at(-1)!.total - calibration(plainCtx).at(-1)!.total, again.members.length);
  // The knn scores are now in units of the normals' spread: the class's threshold is not the plain refresh's.
  assert.notEqual(candidate.thresholds!.knn!.classes?.["hex_nut"]?.value ?? candidate.thresholds!.knn!.value, plain.thresholds!.knn!.classes?.["hex_nut"]?.value ?? plain.thresholds!.knn!.value);
  // The mode it was not measured in: as without a profile.
  assert.ok(Math.abs(candidate.thresholds!["edit-only"]!.value - plain.thresholds!["edit-only"]!.value) < 1e-9 * plain.thresholds!["edit-only"]!.value);
  const served = await loadDetector(join(dir, "profiled-out"), { intraOpThreads: 1 });
  try {
    assert.deepEqual(served.info.profiledClasses, ["hex_nut"]);
  } finally {
    await served.close();
  }
});

test("a held-out frame tagged as a profiled class that reads as another class calibrates neither that class's threshold", async () => {
  const data = join(dir, "two");
  const bundle = join(dir, "two-bundle");
  await makeData(data, 3, "normal", { train: 30, testGood: 0, testDefect: 0 }, ["hex_nut", "brushed_metal"]);
  await fitModel({ data, out: bundle, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" }, threshold: { holdout: 0.4, perClass: true } }), cacheDir: join(dir, "cache"), tune: false, log: quiet, progressSink: quiet });
  // A made-up profile for the nut: calibration measures it again on the nut's held-out maps.
  const rng = createRng(8);
  const sums = new ProfileSums(PROFILE_GRID * PROFILE_GRID);
  for (let k = 0; k < 10; k++) sums.add(Float32Array.from({ length: PROFILE_GRID * PROFILE_GRID }, () => 5 + rng.normal()));
  const manifestPath = join(bundle, "manifest.json");
  const m = JSON.parse(await readFile(manifestPath, "utf8")) as { scoring: Record<string, unknown> };
  m.scoring.profiles = { mode: "knn", grid: PROFILE_GRID, coords: "frame", classes: { hex_nut: { members: Array.from({ length: 10 }, (_, k) => 9_100_000 + k), ...sums.record() } } };
  await writeFile(manifestPath, JSON.stringify(m));
  const model = await openActiveModel(bundle, 1);
  try {
    const base = await baseHoldoutMaps(model, undefined);
    const nuts = base.classes.filter((c) => c === "hex_nut").length;
    assert.ok(nuts >= 10, `${nuts} held-out nuts`);
    // A brushed-metal training frame, tagged as a nut (an operator's mistake).
    const metal = (await scanDataset(data)).find((c) => c.name === "brushed_metal")!.train[0]!;
    const [got] = await featuresOfFiles(model, [{ path: metal }], { what: "test" });
    assert.ok(got?.ok);
    const parts = { coreset: model.coreset, coresetSize: model.manifest.memory.coresetSize, c: model.manifest.features.c, ...rowClassesPart(model.bundle) };
    const calibrated = async (withStray: boolean) =>
      (await calibrateThresholds(model, parts, withStray ? [...base.maps, got.map] : base.maps, ["knn"], { classes: withStray ? [...base.classes, "hex_nut"] : base.classes })).thresholds.knn!.classes!["hex_nut"]!;
    const plain = await calibrated(false);
    const stray = await calibrated(true);
    assert.equal(plain.holdoutImages, nuts);
    assert.equal(stray.holdoutImages, nuts, "the stray is not among the nut's calibrating normals");
  } finally {
    await model.release();
  }
});
