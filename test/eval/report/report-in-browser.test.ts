/**
 * `lafite eval --report` end to end on a small synthetic set with a kNN-only
 * bundle, and the page opened in headless Chromium: it loads with no console
 * message, no script or resource error and no broken image.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, rm, writeFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { synthesizeDataset } from "../../../src/image/synth/index.js";
import type { ReportData } from "../../../src/eval/report/report-data.js";
import type { TuningRecord } from "../../../src/model/bundle.js";
import { chromium } from "./support/chromium.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../../bin/lafite.js", import.meta.url));
let dir = "";
let data = "";
let bundle = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-report-"));
  data = join(dir, "data");
  bundle = join(dir, "bundle");
  await synthesizeDataset({ out: data, seed: 4, classes: ["hex_nut", "fabric"], trainPerClass: 8, testGoodPerClass: 3, testPerDefect: 1 });
  // No edge correction: the grid points are re-scored under overrides, which serve none, so they match only a bundle without it.
  await writeFile(join(dir, "knn.yaml"), "diffusion: { preset: none }\nscoring: { mode: knn }\ntuning: { edgeCorrection: false }\n");
  await run(process.execPath, [CLI, "fit", "--data", data, "--out", bundle, "--config", join(dir, "knn.yaml"), "--cache", join(dir, "cache")], { timeout: 300_000 });
  // A hand-written tuning record (the bundle's files are hashed, its manifest is not). kNN scoring
  // ignores τ and K, so every re-scored grid point must reproduce the plain evaluation exactly.
  const manifestPath = join(bundle, "manifest.json");
  const manifest = JSON.parse(await readFile(manifestPath, "utf8")) as Record<string, unknown>;
  const tuning: TuningRecord = {
    seed: 7,
    perClass: 4,
    images: { anomalous: 8, good: 4 },
    tau: { mode: "knn", curve: [10, 20].map((tau) => ({ tau, deltaT: 5, image_auroc: 0.8, pixel_auroc: 0.9 })), chosen: { tau: 20, deltaT: 5 } },
    k: { mode: "knn", curve: [1, 3].map((k) => ({ k, image_auroc: 0.85, pixel_auroc: 0.95 })), chosen: 3 },
    seconds: 1,
  };
  await writeFile(manifestPath, JSON.stringify({ ...manifest, tuning }, null, 2));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("eval --report writes a page that Chromium loads without errors, with its gallery and tuning curves", async () => {
  const out = join(dir, "report");
  const json = join(dir, "r.json");
  await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--json", json, "--report", out], { timeout: 300_000 });
  const index = join(out, "index.html");
  const html = await readFile(index, "utf8");
  const r = JSON.parse(await readFile(json, "utf8")) as { mean: { image_auroc: number; pixel_auroc: number } };
  const d = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as ReportData;

  // Each class shows every kind it has: 3 good and 4 defective test images give 4 misses, 3 false alarms, no one left for borderline.
  assert.deepEqual(d.classes.map((c) => c.name), ["fabric", "hex_nut"]);
  for (const c of d.classes) {
    assert.equal(c.gallery.misses.length, 4);
    assert.equal(c.gallery.falseAlarms.length, 3);
    assert.equal(c.gallery.borderline.length, 0);
    assert.ok(c.imageCurves && c.pixelCurves && c.pro, c.name);
    assert.equal(c.scores.good.length + c.scores.defect.length, c.images);
  }
  assert.ok(d.tuning.state === "present");
  if (d.tuning.state !== "present") return;
  for (const p of [...d.tuning.tau.points, ...d.tuning.k.points]) {
    assert.equal(p.test?.image_auroc, r.mean.image_auroc);
    assert.equal(p.test?.pixel_auroc, r.mean.pixel_auroc);
  }

  const figures = html.match(/<figure>/g)?.length ?? 0;
  assert.equal(figures, 14);
  const dom = await chromium(index, ["--dump-dom"]);
  const body = /<body([^>]*)>/.exec(dom.stdout)?.[1] ?? "";
  assert.match(body, /data-loaded="yes"/, "the load handler ran");
  assert.match(body, /data-errors="0"/);
  assert.match(body, /data-broken-images="0"/);
  assert.match(body, new RegExp(`data-images="${3 * figures}"`));
  assert.deepEqual(dom.console, []);

  const shot = join(dir, "shot.png");
  await chromium(index, [`--screenshot=${shot}`, "--window-size=1300,2000"]);
  const meta = await sharp(shot).metadata();
  assert.equal(meta.width, 1300);
  assert.ok((await stat(shot)).size > 10_000);
});

test("--no-tuning-curves keeps the pseudo-validation curves and says why the test curves are missing", async () => {
  const out = join(dir, "report-fast");
  await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--class", "hex_nut", "--report", out, "--no-tuning-curves"], { timeout: 300_000 });
  const d = JSON.parse(await readFile(join(out, "report.json"), "utf8")) as ReportData;
  assert.deepEqual(d.classes.map((c) => c.name), ["hex_nut"]);
  assert.ok(d.tuning.state === "present" && /--no-tuning-curves/.test(d.tuning.testNote ?? ""));
  if (d.tuning.state === "present") assert.ok(d.tuning.tau.points.every((p) => p.test === null && p.pseudo.image_auroc === 0.8));
  assert.match(await readFile(join(out, "index.html"), "utf8"), /τ sweep \(knn mode\)/);
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--no-tuning-curves"]), (err: { stderr?: string }) => /only applies with --report/.test(err.stderr ?? ""));
});
