/**
 * `lafite tune` on a real (small) bundle: builds the pseudo-validation set
 * from the held-out images only, sweeps τ (in lafite mode, or no-edit on
 * request) then K, and rewrites the bundle as
 * a new version with the curves, the seed and the chosen values; the same
 * seed gives the same curves. Also: `lafite fit --no-tune` leaves the
 * configured values, and the daemon reports the threshold rule.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeDataset } from "../../../src/image/synth/index.js";
import { readBundle, type BundleManifest } from "../../../src/model/bundle.js";
import { classMeansOfBundle } from "../../../src/pipeline/tune/tune-bundle.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { decodeEncoded } from "../../../src/image/decode.js";
import { imageScoreOf } from "../../../src/model/scoring/anomaly-map.js";
import { CLI } from "../../support/knn-bundle.js";

const run = promisify(execFile);
let dir = "";
let data = "";
let bundle = "";

const manifest = async (b: string) => JSON.parse(await readFile(join(b, "manifest.json"), "utf8")) as BundleManifest;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-tune-"));
  data = join(dir, "data");
  bundle = join(dir, "bundle");
  await synthesizeDataset({ out: data, seed: 5, classes: ["hex_nut", "fabric"], trainPerClass: 12, testGoodPerClass: 1, testPerDefect: 1 });
  await writeFile(
    join(dir, "model.yaml"),
    ["diffusion: { preset: tiny, epochs: 2, samples: 24 }", "scoring: { tau: 20, deltaT: 20 }", "tuning: { perClass: 4, taus: [10, 50], ks: [1, 3] }", "threshold: { holdout: 0.25, rule: pseudo-f1 }"].join("\n"),
  );
  await run(process.execPath, [CLI, "fit", "--data", data, "--out", bundle, "--config", join(dir, "model.yaml"), "--cache", join(dir, "cache"), "--no-tune"], { timeout: 300_000 });
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("fit --no-tune keeps the configured τ, Δt and K, records the held-out files, and calibrates by the configured rule", async () => {
  const m = await manifest(bundle);
  assert.equal(m.tuning, undefined);
  // 2 epochs of 18 maps at batch 8 would be 6 steps; the 24-sample budget ends training after 3.
  assert.equal((m.metrics.diffusion as { steps: number }).steps, 3);
  assert.equal(m.memory.sampling, "balanced");
  // Three quarters of the rows were chosen within each class: both classes have rows, and they add up to the bank.
  assert.equal(m.memory.perClassShare, 0.75);
  assert.deepEqual(Object.keys(m.memory.classRows!), ["fabric", "hex_nut"]);
  assert.ok(Object.values(m.memory.classRows!).every((v) => v > 0));
  assert.equal(Object.values(m.memory.classRows!).reduce((a, b) => a + b, 0), m.memory.coresetSize);
  assert.deepEqual([m.scoring.tau, m.scoring.deltaT, m.scoring.k], [20, 20, 3]);
  // Untuned, the detail bank is recorded at the configured weight 0, without normalizers (it is not searched),
  // so an evaluation at another weight is refused with the way out.
  assert.deepEqual(m.scoring.detail, { stages: ["block_2_add", "block_5_add"], channels: [0, 56], weight: 0 });
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--detail-weight", "0.3"]), (err: { stderr?: string }) => /detail weight 0\.3: this bundle has no measured detail bank.*lafite tune/.test(err.stderr ?? ""));
  assert.equal(m.provenance.holdoutFiles!.length, 6); // 3 of 12 per class
  assert.ok(m.provenance.holdoutFiles!.every((f) => /^(hex_nut|fabric)\/train\/good\//.test(f)));
  for (const mode of ["knn", "edit-only", "lafite", "no-edit"] as const) {
    const t = m.thresholds![mode]!;
    assert.equal(t.rule, "pseudo-f1", mode);
    assert.equal(t.pseudo!.anomalies, 8, mode);
    assert.equal(t.holdoutImages, 6, mode);
  }
  const d = await loadDetector(bundle);
  try {
    assert.equal(d.info.thresholdRule, "pseudo-f1");
    assert.match(d.info.thresholdMethod, /F1-optimal on the pseudo-validation set/);
  } finally {
    await d.close();
  }
});

test("lafite tune sweeps τ then K in lafite mode, records curves and seed, writes a new version; the same seed gives the same curves", async () => {
  const before = await manifest(bundle);
  // Without warped edges, so every class's image score and heatmap share their detail W (the image-score override below reduces the heatmap).
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--warps", "0"], { timeout: 300_000 });
  const first = await manifest(bundle);
  assert.notEqual(first.version, before.version);
  const t = first.tuning!;
  assert.equal(t.seed, 3);
  assert.equal(t.perClass, 4);
  assert.deepEqual(t.images, { anomalous: 8, good: 6 });
  // τ is swept in the served mode at the configured K = 3 (tuning.tauMode's default).
  assert.equal(t.tau.mode, "lafite");
  assert.deepEqual(t.tau.curve.map((p) => [p.tau, p.deltaT, p.k]), [[10, 10, 3], [50, 50, 3]]);
  assert.equal(t.k.mode, "lafite");
  // Both sweeps score the same settings once (chosen τ, K = 3, the configured pool rule): equal AUROCs show the τ sweep ran in lafite mode at K = 3.
  const atChosen = t.tau.curve.find((p) => p.tau === t.tau.chosen.tau)!;
  const kPoint = t.k.curve.find((p) => p.k === 3 && p.imageScore === "pool")!;
  assert.deepEqual([atChosen.image_auroc, atChosen.pixel_auroc], [kPoint.image_auroc, kPoint.pixel_auroc]);
  // Each K point is scored once; both image-score rules come from the same maps, so they share the pixel AUROC.
  assert.deepEqual(t.k.curve.map((p) => [p.k, p.imageScore]), [[1, "pool"], [1, "top"], [3, "pool"], [3, "top"]]);
  assert.equal(t.k.curve[0]!.pixel_auroc, t.k.curve[1]!.pixel_auroc);
  for (const p of [...t.tau.curve, ...t.k.curve]) assert.ok(p.image_auroc !== null && p.image_auroc >= 0 && p.image_auroc <= 1);
  // The served values are the tuned ones, or the configured defaults when those scored better.
  const kept = t.final!.kept === "tuned" ? t.final!.tuned : t.final!.defaults;
  assert.deepEqual([first.scoring.tau, first.scoring.deltaT, first.scoring.k, first.scoring.imageScore], [kept.tau, kept.deltaT, kept.k, kept.imageScore]);
  assert.equal(first.scoring.top, 0.01);
  assert.ok([10, 50, 20].includes(first.scoring.tau!));
  // Files are unchanged; the bundle still loads and verifies.
  assert.deepEqual(first.files, before.files);
  const d = await loadDetector(bundle);
  await d.close();
  // The image-score rule can be overridden (the report re-scores each K point with its own rule): same map, that rule's reduction of it.
  const frame = await decodeEncoded(await readFile(join(data, "hex_nut", "test", "good", "000.png")));
  const other = first.scoring.imageScore === "top" ? "pool" : "top";
  const [served, overridden] = [await loadDetector(bundle), await loadDetector(bundle, { overrides: { imageScore: other } })];
  try {
    const [a, b] = [await served.scoreImage(frame), await overridden.scoreImage(frame)];
    assert.deepEqual(b.map, a.map);
    const S = first.backbone.inputSize;
    const rule = { pool: first.scoring.pool, top: first.scoring.top ?? 0.01 };
    assert.ok(Math.abs(a.score - imageScoreOf(a.map, S, { ...rule, imageScore: first.scoring.imageScore ?? "pool" })) < 1e-6 * Math.max(1, a.score));
    assert.ok(Math.abs(b.score - imageScoreOf(b.map, S, { ...rule, imageScore: other })) < 1e-6 * Math.max(1, b.score));
    assert.notEqual(a.score, b.score);
  } finally {
    await served.close();
    await overridden.close();
  }

  // The detail bank's weight is swept after them, in the served mode, and every mode gets its normalizers.
  assert.deepEqual(t.detail!.curve.map((p) => p.weight), [0, 0.2, 0.33, 0.5, 0.67, 0.85, 1]);
  assert.equal(t.detail!.mode, "lafite");
  assert.equal(first.scoring.detail!.weight, t.detail!.chosen);
  // Every mode that searches the bank; no-edit stays the diffusion model alone.
  assert.deepEqual(Object.keys(first.scoring.detail!.normalizers!.main).sort(), ["edit-only", "knn", "lafite"]);

  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--warps", "0"], { timeout: 300_000 });
  const second = await manifest(bundle);
  assert.deepEqual(second.tuning!.tau.curve, t.tau.curve);
  assert.deepEqual(second.tuning!.k.curve, t.k.curve);
  assert.deepEqual(second.tuning!.detail, t.detail);
  assert.deepEqual(second.scoring, first.scoring);

  // A bundle fitted before the detail bank (no scoring.detail; its manifest is not hashed) gets one when re-tuned, from its builtin backbone's stages.
  const old = join(dir, "before-detail");
  await cp(bundle, old, { recursive: true });
  const { detail: _detail, ...scoring } = second.scoring;
  const { detail: _record, ...tuning } = second.tuning!;
  // Nor class means: its frames were read by the bank rows' votes.
  const { classMeans: fitted, ...memory } = second.memory;
  await writeFile(join(old, "manifest.json"), JSON.stringify({ ...second, scoring, tuning, memory }, null, 2));
  assert.equal((await manifest(old)).scoring.detail, undefined);
  await run(process.execPath, [CLI, "tune", "--bundle", old, "--data", data, "--seed", "3", "--warps", "0"], { timeout: 300_000 });
  const retuned = await manifest(old);
  assert.deepEqual(retuned.scoring.detail, second.scoring.detail);
  assert.deepEqual(retuned.tuning!.detail, t.detail);
  // It gets class means from its bank images under --data, as fit took them.
  const means = retuned.memory.classMeans!;
  assert.deepEqual(Object.keys(means.classes).sort(), Object.keys(fitted!.classes).sort());
  for (const [cls, f] of Object.entries(fitted!.classes)) {
    assert.equal(means.classes[cls]!.count, f.count);
    f.mean.forEach((v, j) => assert.ok(Math.abs(v - means.classes[cls]!.mean[j]!) < 1e-4, `${cls}[${j}]: ${v} against ${means.classes[cls]!.mean[j]}`));
  }
  fitted!.spread.forEach((v, j) => assert.ok(Math.abs(v - means.spread[j]!) < 1e-4, `spread[${j}]`));
  // Fit gave every class a reach (its bank images left out of the mean and its held-out normals) and a light range;
  // re-tuning the bundle without means measures the same frames (its bank images under --data, its held-out normals),
  // so it gives the same.
  for (const [cls, f] of Object.entries(fitted!.classes)) {
    assert.ok(f.reach !== undefined && f.reach > 0 && f.light, `fit gave ${cls} no reach or no light range`);
    assert.ok(Math.abs(means.classes[cls]!.reach! - f.reach) < 1e-4, `${cls}: reach ${means.classes[cls]!.reach} against fit's ${f.reach}`);
    f.light.lo.forEach((lo, ch) => assert.ok(Math.abs(means.classes[cls]!.light!.lo[ch]! - lo) < 1e-3 && Math.abs(means.classes[cls]!.light!.hi[ch]! - f.light!.hi[ch]!) < 1e-3, `${cls}: light ${JSON.stringify(means.classes[cls]!.light)} against fit's ${JSON.stringify(f.light)}`));
  }
  // And a bundle with means but fitted before light ranges gets fit's ranges too, from the same frames.
  const unlit = join(dir, "before-light");
  await cp(bundle, unlit, { recursive: true });
  const lit = await manifest(bundle);
  const darkClasses = Object.fromEntries(Object.entries(lit.memory.classMeans!.classes).map(([cls, { light: _light, ...rest }]) => [cls, rest]));
  await writeFile(join(unlit, "manifest.json"), JSON.stringify({ ...lit, memory: { ...lit.memory, classMeans: { ...lit.memory.classMeans!, classes: darkClasses } } }, null, 2));
  const relit = await run(process.execPath, [CLI, "tune", "--bundle", unlit, "--data", data, "--seed", "3", "--warps", "0"], { timeout: 300_000 });
  for (const [cls, c] of Object.entries((await manifest(unlit)).memory.classMeans!.classes)) {
    assert.deepEqual(c.light, lit.memory.classMeans!.classes[cls]!.light, `${cls}: a re-tune's light range against the bundle's`);
  }
  assert.match(relit.stderr + relit.stdout, /tune: the look gate, measured on the bank images and the held-out normals: .*light none → /);
  // A data set whose bank images are not the fit's gives none (the votes keep reading), and says why.
  const fewer = join(dir, "fewer");
  await cp(data, fewer, { recursive: true });
  const bankFile = (await readdir(join(fewer, "fabric", "train", "good"))).map((f) => `fabric/train/good/${f}`).find((f) => !second.provenance.holdoutFiles!.includes(f))!;
  await rm(join(fewer, bankFile));
  const said: string[] = [];
  const stripped = await readBundle(old);
  assert.equal(await classMeansOfBundle({ ...stripped, manifest: { ...stripped.manifest, memory } }, fewer, {}, { log: (m) => said.push(m) }), undefined);
  assert.match(said.join("\n"), /no class means: .* holds 8 bank images of fabric, the fit took 9/);
});

test("lafite tune --tau-mode no-edit sweeps τ with editing off, as the paper does; a mode it cannot sweep in is refused", async () => {
  const lafiteCurve = (await manifest(bundle)).tuning!.tau.curve;
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--tau-mode", "no-edit"], { timeout: 300_000 });
  const t = (await manifest(bundle)).tuning!;
  assert.equal(t.tau.mode, "no-edit");
  assert.deepEqual(t.tau.curve.map((p) => [p.tau, p.deltaT, p.k]), [[10, 10, undefined], [50, 50, undefined]]);
  // The diffusion model alone scores differently from it with editing.
  assert.notDeepEqual(t.tau.curve.map((p) => [p.image_auroc, p.pixel_auroc]), lafiteCurve.map((p) => [p.image_auroc, p.pixel_auroc]));
  assert.equal(t.k.mode, "lafite");
  const err = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--tau-mode", "edit-only"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --tau-mode edit-only"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /--tau-mode must be one of no-edit, lafite, got 'edit-only'/);
});

test("lafite tune --seamless blends that share of the anomalies in, records it, and scores another set; a share outside 0..1 is refused", async () => {
  const hard = (await manifest(bundle)).tuning!;
  assert.equal(hard.seamless, undefined);
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--seamless", "1"], { timeout: 300_000 });
  const t = (await manifest(bundle)).tuning!;
  assert.equal(t.seamless, 1);
  assert.deepEqual(t.images, hard.images);
  assert.notDeepEqual(t.k.curve.map((p) => p.pixel_auroc), hard.k.curve.map((p) => p.pixel_auroc));
  const err = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seamless", "2"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --seamless 2"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /--seamless must be a number from 0 to 1, got '2'/);
});

test("lafite tune --logical makes that share of the anomalies logical and records it beside the seamless share", async () => {
  const before = (await manifest(bundle)).tuning!;
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--seamless", "0", "--logical", "1"], { timeout: 300_000 });
  const t = (await manifest(bundle)).tuning!;
  assert.equal(t.logical, 1);
  assert.equal(t.seamless, undefined);
  assert.deepEqual(t.images, before.images);
  assert.notDeepEqual(t.k.curve.map((p) => p.pixel_auroc), before.k.curve.map((p) => p.pixel_auroc));
  const err = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--logical", "1.5"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --logical 1.5"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /--logical must be a number from 0 to 1, got '1.5'/);
});

test("lafite tune --shade and --warp shade or warp that share of the anomalies in place and record it (tuning.shade, tuning.warp, none by default)", async () => {
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3"], { timeout: 300_000 });
  const byDefault = await manifest(bundle);
  const none = byDefault.tuning!;
  assert.equal(none.shade, undefined);
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--shade", "0.5"], { timeout: 300_000 });
  const t = (await manifest(bundle)).tuning!;
  assert.equal(t.shade, 0.5);
  assert.deepEqual(t.images, none.images);
  assert.notDeepEqual(t.k.curve.map((p) => p.pixel_auroc), none.k.curve.map((p) => p.pixel_auroc));
  const err = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--shade", "2"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --shade 2"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /--shade must be a number from 0 to 1, got '2'/);
  // --warp the same way (tuning.warp): those left moved near an edge instead of pasted.
  assert.equal(none.warp, undefined);
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--warp", "0.5"], { timeout: 300_000 });
  const w = (await manifest(bundle)).tuning!;
  assert.equal(w.warp, 0.5);
  assert.equal(w.shade, undefined);
  assert.deepEqual(w.images, none.images);
  assert.notDeepEqual(w.k.curve.map((p) => p.pixel_auroc), none.k.curve.map((p) => p.pixel_auroc));
  const bad = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--warp", "1.5"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --warp 1.5"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--warp must be a number from 0 to 1, got '1.5'/);
  // --warps N: warped edges beside the set, weighed as much as it in each class's heatmap detail weight (tuning.warps, 20 by default; 0: off).
  const classesOf = (t: typeof none) => Object.entries(t.detail!.classes!);
  assert.ok(classesOf(none).length > 0);
  for (const [cls, c] of classesOf(none)) {
    assert.equal(c.warps!.length, c.curve.length, `${cls}: a warped-edge point per W`);
    c.curve.forEach((p, j) => assert.ok(Math.abs(p.aupro! - (c.set![j]!.aupro! + c.warps![j]!.aupro!) / 2) < 1e-12, `${cls} W ${p.weight}`));
    assert.notEqual(c.imageChosen, undefined, `${cls}: the image score's W, chosen on the set alone`);
  }
  const withWarps = byDefault;
  await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--seed", "3", "--warps", "0"], { timeout: 300_000 });
  const off = await manifest(bundle);
  assert.ok(classesOf(off.tuning!).every(([, c]) => c.warps === undefined && c.set === undefined && c.imageChosen === undefined));
  assert.equal(off.scoring.detail!.imageClassWeights, undefined);
  // The image score's W is the set's either way, so no threshold moves: the warped edges change heatmaps only.
  assert.deepEqual(Object.fromEntries(classesOf(off.tuning!).map(([cls, c]) => [cls, c.chosen])), Object.fromEntries(classesOf(none).map(([cls, c]) => [cls, c.imageChosen])));
  assert.deepEqual([off.threshold.value, off.threshold.holdoutScores, off.threshold.classes], [withWarps.threshold.value, withWarps.threshold.holdoutScores, withWarps.threshold.classes]);
  const refused = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", data, "--warps", "1001"], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted --warps 1001"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--warps must be an integer from 0 to 1000, got '1001'/);
});

test("lafite tune refuses a data folder without the held-out images, naming the file", async () => {
  const err = await run(process.execPath, [CLI, "tune", "--bundle", bundle, "--data", join(dir, "nowhere")], { timeout: 120_000 }).then(
    () => assert.fail("tune accepted a missing data set"),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /cannot read normal image .*nowhere/);
});
