/**
 * The whole product on a small demo set, through its real entry points:
 * `lafite fit` and `lafite eval` as child processes, and `lafite serve` as a
 * separate daemon process answering a real grpc-js client.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { synthesizeDataset } from "../../src/image/synth/index.js";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { LafitedClient, ServingStatus } from "../../src/server/client.js";
import { Verdict } from "../../src/gen/lafited/v1/detector_pb.js";
import { spawnDaemon } from "../server/support/daemon-process.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../bin/lafite.js", import.meta.url));
let dir = "";
let data = "";
let bundle = "";
let fitStderr = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-e2e-"));
  data = join(dir, "demo");
  bundle = join(dir, "bundle");
  await synthesizeDataset({ out: data, seed: 3, trainPerClass: 16, testGoodPerClass: 5, testPerDefect: 2 });
  // The default (lafite) mode with a briefly trained tiny U-Net: every stage of the real path runs.
  // Three held-out normals per class, enough here for each class's own threshold (threshold.perClass).
  await writeFile(join(dir, "model.yaml"), "diffusion: { preset: tiny, epochs: 3 }\nthreshold: { holdout: 0.2, minClassNormals: 3 }\n");
  ({ stderr: fitStderr } = await run(process.execPath, [CLI, "fit", "--data", data, "--out", bundle, "--config", join(dir, "model.yaml"), "--cache", join(dir, "cache")], { timeout: 300_000 }));
});

test("every stage's progress line shows the whole fit's ETA", () => {
  const lines = fitStderr.split("\n");
  for (const stage of ["fit: features", "fit: coreset", "train", "fit: pseudo-validation set", "tune"]) {
    const mine = lines.filter((l) => l.startsWith(`${stage}: `) && /\d+\/\d+/.test(l));
    assert.ok(mine.length > 0, `no progress line for ${stage} in:\n${fitStderr}`);
    for (const l of mine) assert.match(l, / · fit ETA (\d+s|\d+m\d\ds|\d+h\d\dm)$/, l);
  }
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("lafite eval writes the JSON contract with per-class and mean metrics in 0–1", async () => {
  const json = join(dir, "r.json");
  const { stdout } = await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--json", json], { timeout: 120_000 });
  assert.match(stdout, /mean/);
  const r = JSON.parse(await readFile(json, "utf8")) as { mode: string; classes: Record<string, Record<string, number | null>>; mean: Record<string, number> };
  assert.equal(r.mode, "lafite");
  assert.deepEqual(Object.keys(r.classes).sort(), ["brushed_metal", "fabric", "hex_nut"]);
  for (const m of [...Object.values(r.classes), r.mean]) {
    for (const key of ["image_auroc", "pixel_auroc", "image_ap", "pixel_ap", "pixel_aupro"]) {
      const v = m[key];
      assert.ok(typeof v === "number" && v >= 0 && v <= 1, `${key} = ${v}`);
    }
  }
  // Even this small fit separates the demo defects clearly; a broken pipeline scores ~0.5.
  assert.ok(r.mean.image_auroc! > 0.85, `mean image AUROC ${r.mean.image_auroc}`);
  assert.ok(r.mean.pixel_auroc! > 0.9, `mean pixel AUROC ${r.mean.pixel_auroc}`);
  // Per defect type: every defect folder of each class, whose images and catches add up to the class's verdict counts.
  const full = JSON.parse(await readFile(json, "utf8")) as { defects: Record<string, Record<string, { images: number; caught: number; image_auroc: number | null; pixel_auroc: number | null; pixel_aupro: number | null }>>; verdicts: { classes: Record<string, { defects: number; caught: number }> } };
  assert.match(stdout, /^per defect type/m);
  for (const cls of Object.keys(r.classes)) {
    const folders = (await readdir(join(data, cls, "test"))).filter((d) => d !== "good").sort();
    const byDefect = full.defects[cls]!;
    assert.deepEqual(Object.keys(byDefect).sort(), folders);
    const sum = (key: "images" | "caught") => Object.values(byDefect).reduce((n, m) => n + m[key], 0);
    assert.equal(sum("images"), full.verdicts.classes[cls]!.defects);
    assert.equal(sum("caught"), full.verdicts.classes[cls]!.caught);
    for (const [defect, m] of Object.entries(byDefect)) {
      for (const v of [m.image_auroc, m.pixel_auroc, m.pixel_aupro]) assert.ok(typeof v === "number" && v >= 0 && v <= 1, `${cls}/${defect}: ${JSON.stringify(m)}`);
      assert.match(stdout, new RegExp(`^${cls}\\s+${defect}\\s+\\d+\\.\\d`, "m"));
    }
  }
});

test("lafite eval --class-tags judges each image as its folder's class, as a tagging line would, and still counts misreadings", async () => {
  // hex_nut's good test images filed under fabric: read as hex_nut, judged as fabric (its threshold) when tagged.
  const wrong = join(dir, "misfiled");
  await cp(join(data, "hex_nut", "test", "good"), join(wrong, "fabric", "test", "good"), { recursive: true });
  const m = JSON.parse(await readFile(join(bundle, "manifest.json"), "utf8")) as { thresholds: { lafite: { classes: Record<string, { value: number }> } } };
  const judge = async (flags: string[]) => {
    const json = join(dir, `tags-${flags.join("")}.json`);
    const scores = join(dir, `tags-${flags.join("")}.jsonl`);
    const { stdout } = await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", wrong, "--json", json, "--scores", scores, ...flags], { timeout: 120_000 });
    const lines = (await readFile(scores, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { class: string; readAs?: string; judgedAs?: string; score: number; threshold: number; verdict: string });
    const r = JSON.parse(await readFile(json, "utf8")) as { classTags: boolean; classTagMismatch?: string; verdicts: { classes: Record<string, { good: number; flagged: number; misread: number; misreadAs: Record<string, number> }> } };
    return { stdout, lines, r };
  };
  // By default a tagged image read as another class is NG whatever its score, as the daemon's model.classTagMismatch: ng.
  const tagged = await judge(["--class-tags"]);
  assert.deepEqual([tagged.r.classTags, tagged.r.classTagMismatch], [true, "ng"]);
  assert.match(tagged.stdout, /each image tagged with its class.*one read as another class is NG whatever its score/);
  assert.ok(tagged.lines.length > 0);
  for (const l of tagged.lines) {
    assert.deepEqual([l.class, l.readAs, l.judgedAs, l.verdict], ["fabric", "hex_nut", "fabric", "NG"]);
    assert.ok(Math.abs(l.threshold - m.thresholds.lafite.classes.fabric!.value) < 1e-9);
  }
  const n = tagged.lines.length;
  assert.deepEqual(tagged.r.verdicts.classes.fabric, { ...tagged.r.verdicts.classes.fabric, good: n, flagged: n, misread: n, misreadAs: { hex_nut: n } });
  // judge: by the score against fabric's threshold.
  const byScore = await judge(["--class-tags", "--class-tag-mismatch", "judge"]);
  assert.equal(byScore.r.classTagMismatch, "judge");
  for (const l of byScore.lines) assert.equal(l.verdict, l.score > l.threshold ? "NG" : "OK");
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", wrong, "--class-tag-mismatch", "judge"]), (err: { stderr?: string }) => /--class-tag-mismatch only applies with --class-tags/.test(err.stderr ?? ""));
  const untagged = await judge([]);
  assert.deepEqual([untagged.r.classTags, untagged.r.classTagMismatch], [false, undefined]);
  for (const l of untagged.lines) {
    assert.deepEqual([l.readAs, l.judgedAs], ["hex_nut", undefined]);
    assert.ok(Math.abs(l.threshold - m.thresholds.lafite.classes.hex_nut!.value) < 1e-9);
  }
});

test("a messy folder works: no ground_truth gives null pixel metrics, formats are found by content", async () => {
  const messy = join(dir, "messy");
  await cp(data, messy, { recursive: true });
  await rm(join(messy, "fabric", "ground_truth"), { recursive: true });
  // A JPEG saved with a .png name, and a file that is not an image at all.
  const goodDir = join(messy, "hex_nut", "test", "good");
  const first = (await readdir(goodDir))[0]!;
  await writeFile(join(goodDir, first), await sharp(join(data, "hex_nut", "test", "good", first)).jpeg().toBuffer());
  await writeFile(join(goodDir, "notes.txt"), "operator notes");
  const json = join(dir, "messy.json");
  await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", messy, "--json", json], { timeout: 120_000 });
  const r = JSON.parse(await readFile(json, "utf8")) as { classes: Record<string, Record<string, number | null>>; details: Record<string, { images: number; skipped: string[] }> };
  assert.equal(r.classes.fabric!.pixel_auroc, null);
  assert.equal(r.classes.fabric!.pixel_ap, null);
  assert.equal(typeof r.classes.fabric!.image_auroc, "number");
  assert.equal(typeof r.classes.hex_nut!.pixel_auroc, "number");
  assert.deepEqual(r.details.hex_nut!.skipped, []);
});

test("a damaged bundle is refused by eval with a clear message", async () => {
  const broken = join(dir, "broken");
  await cp(bundle, broken, { recursive: true });
  await writeFile(join(broken, "coreset.faiss"), Buffer.from("IxF2 this is not an index"));
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", broken, "--data", data]), (err: { stderr?: string }) => /coreset\.faiss is damaged/.test(err.stderr ?? ""));
});

test("the same bundle scores in all three modes, and a knn-only config is refused for lafite mode", async () => {
  for (const mode of ["knn", "no-edit"]) {
    const json = join(dir, `${mode}.json`);
    await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--mode", mode, "--json", json], { timeout: 120_000 });
    const r = JSON.parse(await readFile(json, "utf8")) as { mode: string; mean: { image_auroc: number } };
    assert.equal(r.mode, mode);
    assert.ok(r.mean.image_auroc >= 0 && r.mean.image_auroc <= 1);
  }
  // The detail bank's weight can be overridden for a sweep: W 0 (the main bank alone) and 0.5 score differently; out of range is refused.
  const scoresAt = async (w: string) => {
    const file = join(dir, `detail-${w}.jsonl`);
    await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--mode", "knn", "--class", "hex_nut", "--detail-weight", w, "--scores", file], { timeout: 120_000 });
    return (await readFile(file, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { score: number }).score);
  };
  const [alone, blended] = [await scoresAt("0"), await scoresAt("0.5")];
  assert.equal(alone.length, blended.length);
  assert.ok(alone.some((v, i) => Math.abs(v - blended[i]!) > 1e-4 * Math.max(1, v)), "W 0.5 changes the scores");
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--detail-weight", "1.5"]), (err: { stderr?: string }) => /--detail-weight must be a number from 0 to 1/.test(err.stderr ?? ""));
  // So can the map blur σ: a wider blur gives other scores; zero is refused.
  const sigmaFile = join(dir, "sigma-8.jsonl");
  await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--mode", "knn", "--class", "hex_nut", "--detail-weight", "0", "--sigma", "8", "--scores", sigmaFile], { timeout: 120_000 });
  const wide = (await readFile(sigmaFile, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { score: number }).score);
  assert.equal(wide.length, alone.length);
  assert.ok(wide.some((v, i) => Math.abs(v - alone[i]!) > 1e-4 * Math.max(1, v)), "σ 8 changes the scores");
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--sigma", "0"]), (err: { stderr?: string }) => /--sigma must be a positive number/.test(err.stderr ?? ""));
  // And the image-score rule: the top fraction's mean against the pooled max of the same maps; an unknown rule is refused.
  const ruleScores = async (rule: string) => {
    const file = join(dir, `rule-${rule}.jsonl`);
    await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--mode", "knn", "--class", "hex_nut", "--detail-weight", "0", "--image-score", rule, "--scores", file], { timeout: 120_000 });
    return (await readFile(file, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { score: number }).score);
  };
  const [pooled, top] = [await ruleScores("pool"), await ruleScores("top")];
  assert.equal(top.length, alone.length);
  assert.ok(top.some((v, i) => Math.abs(v - pooled[i]!) > 1e-4 * Math.max(1, v)), "the rule changes the scores");
  await assert.rejects(run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--image-score", "max"]), (err: { stderr?: string }) => /--image-score must be one of pool, top/.test(err.stderr ?? ""));
  await writeFile(join(dir, "bad.yaml"), "diffusion: { preset: none }\n");
  await assert.rejects(run(process.execPath, [CLI, "fit", "--data", data, "--out", join(dir, "never"), "--config", join(dir, "bad.yaml")]), (err: { stderr?: string }) => /scoring\.mode: 'lafite' needs the diffusion model/.test(err.stderr ?? ""));
});

test("the daemon serves the real model: ordered stream, scores equal to the library's, SIGTERM exits 0", async () => {
  const { child, port, exit } = await spawnDaemon([CLI, "serve"], { LAFITED_BUNDLE: bundle, LAFITED_DATA_DIR: join(dir, "state") });
  const client = new LafitedClient(`127.0.0.1:${port}`);
  try {
    assert.equal(await client.health(), ServingStatus.SERVING);
    const info = await client.getModelInfo();
    assert.equal(info.scoringMode, "lafite");
    // Fit tuned τ and K on the pseudo-validation set: the daemon reports what the manifest chose.
    const m = JSON.parse(await readFile(join(bundle, "manifest.json"), "utf8")) as {
      scoring: { tau: number; k: number; edges?: { mode: string; classes: Record<string, number[]> }; detail?: { stages: string[]; channels: number[]; weight: number; normalizers?: { main: Record<string, unknown> }; classWeights?: Record<string, number>; imageClassWeights?: Record<string, number> } };
      tuning?: { detail?: { curve: { weight: number }[]; chosen: number; classes?: Record<string, { curve: { weight: number; aupro: number | null }[]; chosen: number }> }; edges?: { mode: string; classes: Record<string, { base: { aupro: number | null }; corrected: { aupro: number | null }; chosen: boolean }> } };
      threshold: { rule: string };
      thresholds: Record<string, { value: number; classes?: Record<string, { value: number; holdoutImages: number }> }>;
      memory: { contextBank?: unknown };
    };
    assert.ok(m.tuning !== undefined, "fit tunes by default");
    assert.deepEqual(info.optionalTau, { case: "tau", value: m.scoring.tau });
    assert.deepEqual(info.optionalK, { case: "k", value: m.scoring.k });
    assert.equal(info.thresholdRule, m.threshold.rule);
    // The detail bank: the default backbone's two fine stages, its weight swept on the pseudo-validation set and reported when used.
    const detail = m.scoring.detail!;
    assert.deepEqual(detail.stages, ["block_2_add", "block_5_add"]);
    assert.deepEqual(detail.channels, [0, 56]);
    assert.deepEqual(m.tuning.detail!.curve.map((p) => p.weight), [0, 0.2, 0.33, 0.5, 0.67, 0.85, 1]);
    assert.equal(m.tuning.detail!.chosen, detail.weight);
    // A normalizer for every mode with a threshold but no-edit, which stays the diffusion model alone.
    assert.deepEqual(Object.keys(detail.normalizers!.main).sort(), Object.keys(m.thresholds).filter((k) => k !== "no-edit").sort());
    assert.deepEqual(info.optionalDetailWeight, detail.weight > 0 ? { case: "detailWeight", value: Math.fround(detail.weight) } : { case: undefined });
    // And per class (tuning.detailPerClass): each class's own sweep, with AUPRO, its choice served and reported.
    const classes = m.tuning.detail!.classes!;
    assert.deepEqual(Object.keys(classes).sort(), ["brushed_metal", "fabric", "hex_nut"]);
    for (const [cls, r] of Object.entries(classes)) {
      assert.deepEqual(r.curve.map((p) => p.weight), [0, 0.2, 0.33, 0.5, 0.67, 0.85, 1], cls);
      assert.ok(r.curve.every((p) => p.aupro !== null && p.aupro >= 0 && p.aupro <= 1), cls);
      assert.equal(detail.classWeights![cls], r.chosen, cls);
    }
    assert.deepEqual(Object.fromEntries(Object.entries(info.detailClassWeights).map(([k, v]) => [k, +v.toFixed(6)])), detail.classWeights);
    // The image score's own detail W, where the warped edges moved the heatmap's away from the set's (tuning.warps).
    assert.deepEqual(Object.fromEntries(Object.entries(info.detailImageClassWeights).map(([k, v]) => [k, +v.toFixed(6)])), detail.imageClassWeights ?? {});
    // The edge correction, chosen per class in the served mode on the same set: the kept classes' profiles served and reported.
    const edges = m.tuning.edges!;
    assert.equal(edges.mode, "lafite");
    assert.deepEqual(Object.keys(edges.classes), ["brushed_metal", "fabric", "hex_nut"]);
    const kept = Object.entries(edges.classes).filter(([, r]) => r.chosen).map(([cls]) => cls);
    assert.deepEqual(Object.keys(m.scoring.edges?.classes ?? {}), kept);
    assert.deepEqual(info.edgeCorrectedClasses, kept);
    // The demo's classes yield no swapped parts, so no context bank: nothing of it reported.
    assert.equal(m.memory.contextBank, undefined);
    assert.deepEqual([info.contextClassWeights, info.optionalContextLambda.case, info.optionalContextWeight.case], [{}, undefined, undefined]);
    // Per-class thresholds (threshold.perClass): in every mode that reads a frame's class off the bank (not no-edit), each class's
    // over its own 3 held-out normals; the served mode's reported.
    for (const [mode, t] of Object.entries(m.thresholds)) {
      assert.deepEqual(Object.keys(t.classes ?? {}).sort(), mode === "no-edit" ? [] : ["brushed_metal", "fabric", "hex_nut"], mode);
      for (const c of Object.values(t.classes ?? {})) assert.equal(c.holdoutImages, 3, mode);
    }
    const classThresholds = Object.fromEntries(Object.entries(m.thresholds.lafite!.classes!).map(([k, v]) => [k, Math.fround(v.value)]));
    assert.deepEqual(info.classThresholds, classThresholds);
    // What `lafite eval` scored for each test image, to compare the daemon's answers with.
    const scoresFile = join(dir, "scores.jsonl");
    await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--scores", scoresFile], { timeout: 120_000 });
    const evalScores = (await readFile(scoresFile, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as { path: string; class: string; score: number; threshold: number; verdict: string; readAs?: string; classShares?: Record<string, number> });
    const files = (await scanDataset(data)).flatMap((c) => c.test.map((t) => t.path));
    assert.deepEqual(evalScores.map((e) => e.path), files);
    const bytes = await Promise.all(files.map((f) => readFile(f)));
    const got: { id: string; score: number; verdict: Verdict; threshold: number; frameClass: string; classShares: Record<string, number> }[] = [];
    const status = await client.detectMany(
      bytes.map((b, i) => ({ frameId: `f${i}`, image: { case: "encoded" as const, value: b } })),
      (res) => got.push({ id: res.frameId, score: res.score, verdict: res.verdict, threshold: res.threshold, frameClass: res.frameClass, classShares: res.classShares }),
    );
    assert.equal(status.code, 0);
    assert.deepEqual(got.map((g) => g.id), files.map((_, i) => `f${i}`));
    for (let i = 0; i < files.length; i++) {
      const e = evalScores[i]!;
      assert.ok(Math.abs(got[i]!.score - e.score) <= 1e-5 * Math.max(1, e.score), `${files[i]}: served ${got[i]!.score} vs eval ${e.score}`);
      assert.equal(got[i]!.verdict, e.verdict === "NG" ? Verdict.NG : Verdict.OK, files[i]);
      // Each frame is read as its own class and judged by that class's threshold, served and in eval alike.
      assert.equal(e.readAs, e.class, files[i]);
      assert.equal(got[i]!.frameClass, e.class, files[i]);
      // The class shares: they sum to 1, the read class has the largest, and eval reports the same (to 0.001).
      const shares = got[i]!.classShares;
      assert.ok(Math.abs(Object.values(shares).reduce((a, b) => a + b, 0) - 1) < 1e-5, files[i]);
      assert.equal(Math.max(...Object.values(shares)), shares[e.class], files[i]);
      assert.deepEqual(Object.keys(e.classShares!).sort(), Object.keys(shares).sort(), files[i]);
      for (const [c, v] of Object.entries(shares)) assert.ok(Math.abs(v - e.classShares![c]!) <= 6e-4, `${files[i]} ${c}`);
      assert.equal(got[i]!.threshold, classThresholds[e.class], files[i]);
      assert.ok(Math.abs(e.threshold - m.thresholds.lafite!.classes![e.class]!.value) < 1e-9, files[i]);
    }
    // A class tag the model knows judges a frame as that class, whatever it reads as: the tag's threshold and detail weight
    // (the score equals eval's with every frame at that class's W). An unknown tag is informational.
    assert.deepEqual(info.classes, ["brushed_metal", "fabric", "hex_nut"]);
    const first = evalScores.findIndex((e) => e.class === "hex_nut");
    // Preferably a class whose W differs from hex_nut's, so the score shows which W was applied.
    const tagAs = ["fabric", "brushed_metal"].find((c) => detail.classWeights![c] !== detail.classWeights!.hex_nut) ?? "fabric";
    const tagged: { judged: string; read: string; score: number; threshold: number }[] = [];
    const tagStatus = await client.detectMany(
      [tagAs, "bolt", ""].map((classTag, i) => ({ frameId: `t${i}`, classTag, image: { case: "encoded" as const, value: bytes[first]! } })),
      (res) => tagged.push({ judged: res.judgedClass, read: res.frameClass, score: res.score, threshold: res.threshold }),
    );
    assert.equal(tagStatus.code, 0);
    assert.deepEqual(tagged.map((t) => [t.judged, t.read]), [[tagAs, "hex_nut"], ["hex_nut", "hex_nut"], ["hex_nut", "hex_nut"]]);
    assert.deepEqual(tagged.map((t) => t.threshold), [classThresholds[tagAs], classThresholds.hex_nut, classThresholds.hex_nut]);
    const atTagW = join(dir, "scores-at-tag-w.jsonl");
    await run(process.execPath, [CLI, "eval", "--bundle", bundle, "--data", data, "--class", "hex_nut", "--detail-weight", String(detail.classWeights![tagAs]), "--scores", atTagW], { timeout: 120_000 });
    const expected = JSON.parse((await readFile(atTagW, "utf8")).split("\n")[0]!) as { path: string; score: number };
    assert.equal(expected.path, files[first]);
    assert.ok(Math.abs(tagged[0]!.score - expected.score) <= 1e-5 * Math.max(1, expected.score), `tagged ${tagged[0]!.score} vs eval at W ${detail.classWeights![tagAs]} ${expected.score}`);
    assert.ok(Math.abs(tagged[2]!.score - evalScores[first]!.score) <= 1e-5 * Math.max(1, evalScores[first]!.score));
    if (detail.classWeights![tagAs] !== detail.classWeights!.hex_nut) assert.notEqual(tagged[0]!.score, tagged[2]!.score, "the tag's W, not the read class's");
  } finally {
    client.close();
    child.kill("SIGTERM");
  }
  assert.equal(await exit, 0);
});

test("the daemon's look gate: a uniform frame (an empty station) is NG as unlike any class; SIGHUP with model.unlikeMargin 0 turns it off", async () => {
  const config = join(dir, "serve.yaml");
  await writeFile(config, "model: {}\n");
  const d = await spawnDaemon([CLI, "serve", "--config", config], { LAFITED_BUNDLE: bundle, LAFITED_DATA_DIR: join(dir, "state-look") });
  const client = new LafitedClient(`127.0.0.1:${d.port}`);
  try {
    const empty = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 150, g: 150, b: 150 } } }).png().toBuffer();
    const good = await readFile(join(data, "fabric", "test", "good", (await readdir(join(data, "fabric", "test", "good")))[0]!));
    const info = await client.getModelInfo();
    assert.equal(info.unlikeMargin, 1.5);
    assert.deepEqual([...info.lookGatedClasses].sort(), [...info.classes].sort(), "every demo class has a reach");
    const normal = await client.detectOne({ frameId: "good", image: { case: "encoded", value: good } });
    assert.ok(normal.lookRatio > 0 && normal.lookRatio < 1.5 && !normal.unlikeAnyClass, `a good frame at ${normal.lookRatio} reaches`);
    const gated = await client.detectOne({ frameId: "empty", image: { case: "encoded", value: empty } });
    assert.ok(gated.lookRatio > 1.5, `a uniform frame at ${gated.lookRatio} reaches`);
    assert.equal(gated.unlikeAnyClass, true);
    assert.equal(gated.verdict, Verdict.NG);
    // The margin is the config's, read again on SIGHUP with the bundle.
    await writeFile(config, "model: { unlikeMargin: 0 }\n");
    const reloaded = d.log().split("\n").filter((l) => l.includes('"reloaded"')).length;
    d.child.kill("SIGHUP");
    const until = Date.now() + 60_000;
    while (d.log().split("\n").filter((l) => l.includes('"reloaded"')).length === reloaded && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await client.getModelInfo()).unlikeMargin, 0);
    const open = await client.detectOne({ frameId: "empty", image: { case: "encoded", value: empty } });
    assert.equal(open.unlikeAnyClass, false);
    assert.equal(open.lookRatio, gated.lookRatio, "the ratio is still reported");
    assert.equal(open.verdict, open.score > open.threshold ? Verdict.NG : Verdict.OK, "judged by its score alone");
  } finally {
    client.close();
    d.child.kill("SIGTERM");
    assert.equal(await d.exit, 0);
  }
});
