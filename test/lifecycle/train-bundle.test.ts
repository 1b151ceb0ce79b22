/**
 * `lafite train` on a tiny bundle: an interrupt leaves a checkpoint beside
 * the output and the same call resumes it; the new version records its
 * parent, budget, final loss, t range and EMA, keeps the bank, changes the
 * denoiser and gets thresholds; without --out the bundle is replaced atomically.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { fitModel } from "../../src/pipeline/fit.js";
import { synthesizeDataset } from "../../src/image/synth/index.js";
import { LONG_TRAINING_EMA, LONG_TRAINING_T_MAX, trainBundle } from "../../src/lifecycle/train-bundle.js";
import { checkpointDirBeside } from "../../src/model/diffusion/checkpoint.js";
import { ErrorCode, LafiteError } from "../../src/util/errors.js";
import { spawn } from "node:child_process";
import { CLI } from "../support/knn-bundle.js";
import { captureOutput } from "../support/capture-output.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { measureFrameUnits, pixelUnitOf, tiledClassFrames } from "../../src/pipeline/tiling/frame-units.js";
import { tileTrainingDir, trainTileBundle } from "../../src/lifecycle/train-tiles.js";
import { filesOf, readBundle, writeBundle } from "../../src/model/bundle.js";
import { tileBundleOf } from "../../src/model/tiling.js";
import { readImageFile } from "../../src/image/read-image-file.js";

const quiet = (): void => {};
let dir = "";
let data = "";
let base = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-train-bundle-"));
  data = join(dir, "data");
  base = join(dir, "base");
  await synthesizeDataset({ out: data, seed: 3, classes: ["hex_nut"], trainPerClass: 6, testGoodPerClass: 0, testPerDefect: 0 });
  const config = parseModelConfig({ diffusion: { preset: "tiny", epochs: 2, replayMB: 2 }, tuning: { perClass: 2 } });
  await fitModel({ data, out: base, config, cacheDir: join(dir, "cache"), tune: false, log: quiet, progressSink: quiet });
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("interrupted after a step, the same call resumes from the checkpoint beside the output and writes a child version", async () => {
  const out = join(dir, "trained");
  const opts = { bundle: base, out, steps: 4, tMax: 100, ema: 0.9, intraOpThreads: 1 };
  const ctl = new AbortController();
  // Progress prints on the first step: stop there.
  await assert.rejects(
    trainBundle({ ...opts, signal: ctl.signal, log: (l) => /^train: 1\/4 steps/.test(l) && ctl.abort() }),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED && /interrupted at step 1\/4/.test(e.message),
  );
  assert.ok((await stat(join(checkpointDirBeside(out), "diffusion.ckpt"))).isFile());
  const lines: string[] = [];
  const written = await trainBundle({ ...opts, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /resuming from .* at step 1\/4/.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /^train \(from step 1\): \d\/3 steps .*(ETA|done in) .*loss \d\.\d+ [\d.]+ samples\/s/.test(l)), lines.join("\n"));
  await assert.rejects(stat(checkpointDirBeside(out)), "the checkpoint is removed once the bundle is written");

  const parent = (await readBundle(base)).manifest;
  const child = await readBundle(out);
  assert.equal(child.manifest.version, written.version);
  assert.equal(child.manifest.parentVersion, parent.version);
  const train = child.manifest.metrics.train as Record<string, unknown>;
  assert.deepEqual(train.budget, { minutes: null, epochs: null, steps: 4 });
  assert.equal(train.steps, 4);
  assert.equal(train.stoppedBy, "steps");
  assert.equal(train.tMax, 100);
  assert.equal(train.ema, 0.9);
  assert.ok(Number.isFinite(train.finalLoss) && (train.finalLoss as number) > 0);
  assert.equal(child.manifest.config.diffusion.tMax, 100);
  assert.equal(child.manifest.config.diffusion.ema, 0.9);
  assert.equal(child.manifest.files["coreset.f32"], parent.files["coreset.f32"]);
  assert.notEqual(child.manifest.files["denoiser.onnx"], parent.files["denoiser.onnx"]);
  assert.deepEqual(Object.keys(child.manifest.thresholds ?? {}).sort(), Object.keys(parent.thresholds ?? {}).sort());
  assert.ok(Number.isFinite(child.manifest.threshold.value));
});

test("lafite train without --out replaces the bundle atomically; --data calibrates on its pseudo-validation set and --tune re-tunes it; --tune without --data is refused", async () => {
  const before = (await readBundle(base)).manifest;
  const { result: codes, stderr: text } = await captureOutput(async () => [
    await main(["train", "--bundle", base, "--tune"]),
    await main(["train", "--bundle", base, "--steps", "2", "--tune"]),
    await main(["train", "--bundle", base, "--epochs", "1", "--steps", "2", "--data", data, "--tune", "--threads", "1"]),
  ]);
  assert.deepEqual(codes, [1, 1, 0]);
  assert.match(text, /needs a budget: --minutes M, --epochs E and\/or --steps N/);
  assert.match(text, /--tune needs --data DIR/);
  assert.match(text, /no-edit threshold/, "thresholds came from the pseudo-validation set");
  const after = (await readBundle(base)).manifest;
  assert.notEqual(after.version, before.version);
  assert.equal(after.parentVersion, before.version);
  assert.ok(after.tuning, "re-tuned on the pseudo-validation set");
  assert.match(text, /tune: wrote/);
  // With --data it trains on every training map fit used: 6 train/good images, 1 held out. One epoch of 5 maps is one batch: the first budget reached ends it.
  const train = after.metrics.train as { steps: number; source: string; trainingMaps: number };
  assert.equal(train.source, "data");
  assert.equal(train.trainingMaps, 5);
  assert.equal(train.steps, 1);
  assert.match(text, /train: 5 training maps from .* \(6 train\/good images of the bundle's classes, 1 held out for pseudo-validation\)/);
  // Its 1 held-out image is too few for a class threshold: train's calibration and then tune's score its 5 bank images left out.
  assert.match(text, /train: hex_nut: fewer held-out normals than threshold.minClassNormals; scoring 5 of their bank images/);
  assert.match(text, /tune: hex_nut: fewer held-out normals than threshold.minClassNormals; scoring 5 of their bank images/);
  assert.equal(after.thresholds!.knn!.classes, undefined, "1 + 5 normals are still under threshold.minClassNormals 10: the model's threshold");
  assert.match(text, /on the model's threshold \(under threshold.minClassNormals 10\): hex_nut \(1 held-out normal\)/);
});

test("lafite train --data skips an unreadable training image, saying so, and trains on the rest; without --data it reads the recorded data set (refusing before training if it is gone), with --replay the replay sample", async () => {
  const copy = join(dir, "data-with-a-bad-file");
  await cp(data, copy, { recursive: true });
  const good = join(copy, "hex_nut", "train", "good");
  const [first] = (await readdir(good)).sort();
  await writeFile(join(good, first!), "this is not an image");
  const lines: string[] = [];
  const written = await trainBundle({ bundle: base, out: join(dir, "from-data"), steps: 1, data: copy, intraOpThreads: 1, log: (l) => lines.push(l), progressSink: quiet });
  const train = written.metrics.train as { source: string; trainingMaps: number };
  assert.deepEqual([train.source, train.trainingMaps], ["data", 4]);
  assert.ok(lines.some((l) => /1 unreadable/.test(l)) && lines.some((l) => l.includes(`skipped ${join(good, first!)}`)), lines.join("\n"));

  const sourceOf = (m: { metrics: Record<string, unknown> }) => {
    const t = m.metrics.train as { source: string; trainingMaps: number };
    return [t.source, t.trainingMaps];
  };
  const replayCount = (await readBundle(base)).manifest.replay!.count;
  const recorded = await trainBundle({ bundle: base, out: join(dir, "recorded"), steps: 1, intraOpThreads: 1, log: quiet, progressSink: quiet });
  assert.deepEqual(sourceOf(recorded), ["data", 5], "the data set the manifest records");
  // The bundle config sets neither: long training's defaults, recorded for later jobs.
  const t = recorded.metrics.train as { tMax: number; ema: number };
  assert.deepEqual([t.tMax, t.ema], [LONG_TRAINING_T_MAX, LONG_TRAINING_EMA]);
  assert.deepEqual([recorded.config.diffusion.tMax, recorded.config.diffusion.ema], [200, 0.999]);
  assert.deepEqual(sourceOf(await trainBundle({ bundle: base, out: join(dir, "from-replay"), steps: 1, replay: true, intraOpThreads: 1, log: quiet, progressSink: quiet })), ["replay", replayCount]);
  const moved = `${data}-moved`;
  await rename(data, moved);
  try {
    // The recorded data set is gone: refused before any training, saying what to pass.
    const said: string[] = [];
    await assert.rejects(
      trainBundle({ bundle: base, out: join(dir, "data-gone"), steps: 1, intraOpThreads: 1, log: (l) => said.push(l), progressSink: quiet }),
      (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_DATASET && /fit's data set .*, which the bundle records, is not usable .*pass --data DIR where it is now/.test(e.message),
    );
    assert.ok(!said.some((l) => /diffusion training/.test(l)), said.join("\n"));
    // --data where it is now works.
    assert.deepEqual(sourceOf(await trainBundle({ bundle: base, out: join(dir, "trained-from-moved"), steps: 1, data: moved, intraOpThreads: 1, log: quiet, progressSink: quiet })), ["data", 5]);
  } finally {
    await rename(moved, data);
  }
  const { result: code, stderr } = await captureOutput(() => main(["train", "--bundle", base, "--steps", "1", "--replay", "--data", data]));
  assert.equal(code, 1);
  assert.match(stderr, /--replay and --data contradict each other/);
});

test("Ctrl-C in lafite train exits 130 after the current step, leaving the checkpoint the same command resumes from", async () => {
  const out = join(dir, "interrupted");
  const child = spawn(process.execPath, [CLI, "train", "--bundle", base, "--out", out, "--steps", "200", "--threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  let sent = false;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
    // The first progress line comes after the first step.
    if (!sent && /^train: 1\/200 steps/m.test(stderr)) {
      sent = true;
      child.kill("SIGINT");
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: finishing the current step/);
  assert.match(stderr, /interrupted at step \d+\/200; checkpoint in .*\.interrupted\.diffusion-checkpoint/);
  assert.ok((await stat(join(checkpointDirBeside(out), "diffusion.ckpt"))).isFile());
  await assert.rejects(stat(out), "no bundle is written by an interrupted run");
});

/** A tiny bundle whose one class is also scored in 2×2 tiles, fitted once for the tests that need it. */
let tiled: Promise<{ tiledData: string; tiledBase: string }> | undefined;
function tiledFixture(): Promise<{ tiledData: string; tiledBase: string }> {
  tiled ??= (async () => {
    const tiledData = join(dir, "tiled-data");
    await synthesizeDataset({ out: tiledData, seed: 4, classes: ["hex_nut"], trainPerClass: 10, testGoodPerClass: 0, testPerDefect: 0 });
    const tiledBase = join(dir, "tiled-base");
    const config = parseModelConfig({ diffusion: { preset: "tiny", epochs: 2, replayMB: 2 }, tuning: { perClass: 2 }, tiling: { classes: ["hex_nut"], grid: 2 } });
    await fitModel({ data: tiledData, out: tiledBase, config, cacheDir: join(dir, "cache"), tune: false, log: quiet, progressSink: quiet, intraOpThreads: 1 });
    return { tiledData, tiledBase };
  })();
  return tiled;
}

test("a bundle with a tiled class: the new U-Net's map unit is measured again for it, its tile figures kept", async () => {
  const { tiledData, tiledBase } = await tiledFixture();
  const before = (await readBundle(tiledBase)).manifest.tiling!.classes.hex_nut!;
  const out = join(dir, "tiled-trained");
  const lines: string[] = [];
  await trainBundle({ bundle: tiledBase, out, steps: 3, intraOpThreads: 1, log: (l) => lines.push(l) });
  const after = (await readBundle(out)).manifest.tiling!.classes.hex_nut!;
  assert.deepEqual([after.frameThreshold, after.pixelUnits!.tiles, after.manifest.version], [before.frameThreshold, before.pixelUnits!.tiles, before.manifest.version]);
  const whole = await loadDetector(out, { intraOpThreads: 1, tiling: false });
  try {
    const m = (await readBundle(out)).manifest;
    const heldOut = m.provenance.holdoutFiles!.filter((f) => f.startsWith("hex_nut/")).map((f) => join(tiledData, f));
    assert.equal(after.pixelUnits!.whole, await pixelUnitOf(whole, heldOut, "hex_nut"));
  } finally {
    await whole.close();
  }
  assert.notEqual(after.pixelUnits!.whole, before.pixelUnits!.whole, "the new U-Net's maps have another unit");
  assert.ok(lines.some((l) => /^train: hex_nut tiles: the whole model's map unit measured again on \d+ held-out frames/.test(l)), lines.join("\n"));
});

test("lafite train --tiles trains the class's tile U-Net on its frames' tiles, resumes after an interrupt, measures the frame threshold again and leaves the whole model as it was", async () => {
  const { tiledData, tiledBase } = await tiledFixture();
  const parent = await readBundle(tiledBase);
  const before = parent.manifest.tiling!.classes.hex_nut!;
  const out = join(dir, "tiles-trained");
  const work = tileTrainingDir(out, "hex_nut");
  // Interrupted after its first step: the checkpoints stay in the work folder beside the output, and no bundle is written.
  const ctl = new AbortController();
  await assert.rejects(
    trainTileBundle({ bundle: tiledBase, out, steps: 3, tiles: "hex_nut", intraOpThreads: 1, signal: ctl.signal, log: (l) => /^train: hex_nut tiles: 1\/3 steps/.test(l) && ctl.abort() }),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED,
  );
  await assert.rejects(stat(out));
  assert.ok((await readdir(work)).length > 0);
  // Resumed, then interrupted again once trained, while its frame threshold is measured: the trained tile bundle stays.
  const resumed: string[] = [];
  const again = new AbortController();
  await assert.rejects(
    trainTileBundle({ bundle: tiledBase, out, steps: 3, tiles: "hex_nut", intraOpThreads: 1, signal: again.signal, log: (l) => resumed.push(l), progressSink: (line) => /hex_nut tiles: bank frames scored unseen/.test(line) && again.abort() }),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED,
  );
  assert.ok(resumed.some((l) => /resuming from .* at step 1\/3/.test(l)), resumed.join("\n"));
  await assert.rejects(stat(out));
  // The same command keeps it and measures its frame threshold.
  const lines: string[] = [];
  const written = await trainTileBundle({ bundle: tiledBase, out, steps: 3, tiles: "hex_nut", intraOpThreads: 1, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /^train: hex_nut tiles: the tile U-Net an interrupted run of this command trained is in .*: kept, not trained again$/.test(l)), lines.join("\n"));
  assert.ok(!lines.some((l) => /steps/.test(l)), lines.join("\n"));
  await assert.rejects(stat(work), "the work folder is gone once the bundle is written");
  const got = await readBundle(out);
  const after = got.manifest.tiling!.classes.hex_nut!;
  assert.equal(written.parentVersion, parent.manifest.version);
  assert.equal((got.manifest.metrics.train as { tiles: string }).tiles, "hex_nut");
  // The whole model's files are the parent's, byte for byte; the tile U-Net is new, trained on the 2×2 tiles of the class's bank frames.
  for (const name of Object.keys(parent.manifest.files).filter((n) => !n.startsWith("tiles."))) assert.equal(got.manifest.files[name], parent.manifest.files[name], name);
  const denoiser = before.manifest.scoring.denoiserFile!;
  assert.notEqual(after.manifest.files[denoiser], before.manifest.files[denoiser]);
  const heldOutFrames = parent.manifest.provenance.holdoutFiles!.filter((f) => f.startsWith("hex_nut/")).length;
  const train = after.manifest.metrics.train as { steps: number; source: string; trainingMaps: number };
  assert.deepEqual([train.steps, train.source, train.trainingMaps], [3, "data", (10 - heldOutFrames) * 4]);
  assert.ok(resumed.some((l) => new RegExp(`train: hex_nut tiles: ${(10 - heldOutFrames) * 4} training maps from .* \\(40 2×2 tiles of the train/good images of the bundle's classes, ${heldOutFrames * 4} held out`).test(l)), resumed.join("\n"));
  // The frame threshold and map units as measureFrameUnits finds them on the new tile bundle beside the unchanged whole model.
  const tileDir = join(dir, "tiles-trained-view");
  const view = tileBundleOf(got, "hex_nut");
  const { files: _hashes, ...tileManifest } = view.manifest;
  await writeBundle(tileDir, tileManifest, filesOf(view));
  const frames = await tiledClassFrames(got.manifest.provenance, "hex_nut");
  const units = await measureFrameUnits(tileDir, tiledBase, "hex_nut", frames, 2, before.overlap, got.manifest.config.threshold.quantile, { intraOpThreads: 1 });
  assert.deepEqual([after.frameThreshold, after.frames, after.pixelUnits], [units.frameThreshold, units.frames, units.pixelUnits]);
  assert.notEqual(after.frameThreshold, before.frameThreshold, "the new tile U-Net moved the tile scores");
  assert.equal(after.pixelUnits!.whole, before.pixelUnits!.whole, "the whole model is the same");
  // Served: its frames are scored in tiles by the new tile model.
  const detector = await loadDetector(out, { intraOpThreads: 1 });
  try {
    const scored = await detector.scoreImage((await readImageFile(frames.heldOut[0]!)).image, 0, "hex_nut");
    assert.ok(scored.tiled && Number.isFinite(scored.tiled.tileScore));
  } finally {
    await detector.close();
  }
  // Refused: a class the bundle does not tile, --tune, and no budget, before anything is written.
  const { result: codes, stderr } = await captureOutput(async () => [
    await main(["train", "--bundle", tiledBase, "--steps", "1", "--tiles", "screw"]),
    await main(["train", "--bundle", base, "--steps", "1", "--tiles", "hex_nut"]),
    await main(["train", "--bundle", tiledBase, "--steps", "1", "--tiles", "hex_nut", "--data", tiledData, "--tune"]),
    await main(["train", "--bundle", tiledBase, "--tiles", "hex_nut"]),
  ]);
  assert.deepEqual(codes, [1, 1, 1, 1]);
  assert.match(stderr, /does not score screw in tiles \(its tiled classes: hex_nut\)/);
  assert.match(stderr, /does not score hex_nut in tiles \(it has no tiled class\)/);
  assert.match(stderr, /--tune re-tunes the whole model and does not go with --tiles/);
  assert.match(stderr, /needs a budget/);
});
