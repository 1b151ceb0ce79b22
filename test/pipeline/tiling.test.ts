/**
 * Served tiling (model/tiling.ts) through fit, load and detect: a class named
 * in tiling.classes gets a tile bundle stored inside its parent, the detector
 * scores its frames whole and in tiles and serves the two combined at the
 * frame's size, and frames of other classes are scored whole as before.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { pino } from "pino";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { mapToFrame } from "../../src/pipeline/bundle-detector.js";
import { evaluate, type ImageScore } from "../../src/eval/evaluate.js";
import { tileWorkDir } from "../../src/pipeline/tiling/fit-tiles.js";
import { autoGrid } from "../../src/pipeline/tiling/auto-tiling.js";
import { FRAME_THRESHOLD_FRAMES, measureFrameUnits, pixelUnitOf } from "../../src/pipeline/tiling/frame-units.js";
import { tuneBundle } from "../../src/pipeline/tune/tune-bundle.js";
import { withoutFiles, writeCandidate } from "../../src/lifecycle/jobs/candidate.js";
import { refreshMemoryBank } from "../../src/lifecycle/jobs/refresh-memory-bank.js";
import type { AcceptedFrame } from "../../src/lifecycle/jobs/types.js";
import { jobContext } from "../lifecycle/jobs/support.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { filesOf, readBundle, sha256, writeBundle } from "../../src/model/bundle.js";
import { chooseTiles, tileBundleOf, tileFileName } from "../../src/model/tiling.js";
import { measureTileChoice, MIN_IMAGE_NORMALS, tileChoiceSamples } from "../../src/pipeline/tiling/tile-choice.js";
import { PixelMetricAccumulator } from "../../src/measures/metrics.js";
import { pixelsRelativeToThreshold } from "../../src/measures/judged-units.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { createRng } from "../../src/model/diffusion/prng.js";
import { tempDir } from "../support/temp-dir.js";

test("autoGrid: the median long side over the input size, rounded down, within 2..4", () => {
  assert.equal(autoGrid([1024, 1024, 1000], 224), 4); // 4.5
  assert.equal(autoGrid([448, 448], 224), 2);
  assert.equal(autoGrid([300, 2000, 310], 224), 2); // median 310: 1.4, raised to 2
  assert.equal(autoGrid([3000], 224), 4); // 13.4, capped
  assert.equal(autoGrid([700, 680, 900, 720], 224), 3); // lower median 700: 3.1
  assert.throws(() => autoGrid([], 224), /no frame sizes/);
});

/** A square gray frame of fine diagonal hatching with noise; `line` draws a dark one-pixel hairline across row y from x0 to x1. */
async function frame(size: number, seed: number, line?: { y: number; x0: number; x1: number }): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let v = 150 + 25 * Math.sin((x + y) / 2.5) + 12 * (rng.next() - 0.5);
    if (line && y === line.y && x >= line.x0 && x < line.x1) v = 60;
    rgb.fill(Math.max(0, Math.min(255, Math.round(v))), 3 * (y * size + x), 3 * (y * size + x) + 3);
  }
  return sharp(rgb, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

test("a tiled class: fit stores its tile bundle in the parent, and detect scores its frames whole and in tiles, combined at the frame's size", async (t) => {
  const dir = await tempDir(t);
  const data = join(dir, "data");
  for (const [cls, size] of [["sheet", 480], ["small", 96]] as const) {
    const good = join(data, cls, "train", "good");
    await mkdir(good, { recursive: true });
    for (let i = 0; i < 10; i++) await writeFile(join(good, `${i}.png`), await frame(size, i + (cls === "small" ? 100 : 0)));
  }
  const config = parseModelConfig({ tiling: { classes: ["sheet"] }, diffusion: { preset: "none" }, scoring: { mode: "knn" } });
  const out = join(dir, "bundle");
  const logs: string[] = [];
  const fitOptions = { data, out, config, cacheDir: join(dir, "cache"), tune: false, log: (m: string) => logs.push(m), progressSink: () => {}, intraOpThreads: 1 };
  await fitModel(fitOptions);
  const bundle = await readBundle(out);
  const sheet = bundle.manifest.tiling?.classes.sheet;
  assert.ok(sheet, "the manifest records the tiled class");
  // 480 px over the 224-px input: 2.1, so 2×2 tiles; the frame threshold over its held-out frame and bank frames scored unseen.
  assert.equal(sheet.grid, 2);
  assert.equal(sheet.overlap, 0);
  assert.equal(sheet.frames, Math.min(10, FRAME_THRESHOLD_FRAMES));
  assert.ok(sheet.frameThreshold > 0);
  assert.ok(sheet.pixelUnits && sheet.pixelUnits.whole > 0 && sheet.pixelUnits.tiles > 0);
  assert.deepEqual(Object.keys(sheet.manifest.provenance.classes), ["sheet"]);
  assert.equal(sheet.manifest.provenance.classes.sheet!.train + sheet.manifest.provenance.classes.sheet!.holdout, 40);
  // The tile bundle's held-out tiles are the tiles of the parent's held-out frames, named as tile references.
  const heldOutFrames = bundle.manifest.provenance.holdoutFiles!.filter((f) => f.startsWith("sheet/"));
  assert.deepEqual(sheet.manifest.provenance.holdoutFiles, heldOutFrames.flatMap((f) => [0, 1, 2, 3].map((i) => `${f}::tile(2,${i},0)`)));
  // Its own files under tiles.sheet.*, the backbone shared with the parent.
  assert.ok(bundle.manifest.files[tileFileName("sheet", "coreset.f32")]);
  assert.equal(bundle.manifest.files[tileFileName("sheet", "backbone.onnx")], undefined);
  assert.ok(logs.some((l) => /sheet tiles: frame threshold/.test(l)), logs.join("\n"));
  // The whole model and the tile bundles were fitted aside, and nothing of them is left.
  await assert.rejects(stat(tileWorkDir(out)), /ENOENT/);

  // A lifecycle job's candidate (the parent's files and manifest with the job's changes) keeps the tiles, and loads with them.
  const candidate = join(dir, "candidate");
  await writeCandidate(candidate, bundle.manifest, (name) => bundle.file(name), withoutFiles(bundle.manifest), {}, 1);
  const carried = await loadDetector(candidate, { intraOpThreads: 1 });
  try {
    // fit --no-tune: nothing measured, so tiling.mapOnly auto puts the tiles in the score too.
    assert.deepEqual(carried.info.tiledClasses, { sheet: { grid: 2, overlap: 0, frameThreshold: sheet.frameThreshold, mode: "knn", mapOnly: false } });
  } finally {
    await carried.close();
  }

  const tiled = await loadDetector(out, { intraOpThreads: 1 });
  const whole = await loadDetector(out, { intraOpThreads: 1, tiling: false });
  try {
    assert.deepEqual(Object.keys(tiled.info.tiledClasses ?? {}), ["sheet"]);
    assert.equal(tiled.info.tiledClasses!.sheet!.grid, 2);
    assert.equal(whole.info.tiledClasses, undefined);
    // Scored in another mode than its own, the bundle's tiles (their units measured in its own mode) are left out, and the log says so.
    const said: string[] = [];
    const otherMode = await loadDetector(out, { intraOpThreads: 1, mode: "edit-only", log: (m) => said.push(m) });
    try {
      assert.equal(otherMode.info.tiledClasses, undefined);
      assert.ok(said.some((m) => /scored in edit-only mode, not its own knn: sheet scored whole, without tiles/.test(m)), said.join("\n"));
    } finally {
      await otherMode.close();
    }
    const ownMode = await loadDetector(out, { intraOpThreads: 1, mode: "knn" });
    try {
      assert.deepEqual(Object.keys(ownMode.info.tiledClasses ?? {}), ["sheet"], "its own mode named keeps the tiles");
    } finally {
      await ownMode.close();
    }
    const bytes = await frame(480, 77, { y: 300, x0: 260, x1: 420 });
    const image = await decodeEncoded(bytes);
    const a = await tiled.scoreImage(image, 0, "sheet");
    const b = await whole.scoreImage(image, 0, "sheet");
    assert.ok(a.tiled, "a sheet frame is scored in tiles");
    assert.equal(b.tiled, undefined);
    assert.ok((a.timings.tiles ?? 0) > 0);
    // The whole frame's part is the untiled detector's exactly; the score the larger of it and the tiles' scaled one.
    assert.equal(a.score, Math.max(b.score, a.tiled.tileScore));
    assert.deepEqual([...a.map], [...b.map]);
    assert.equal(a.tiled.wholeScore, b.score);
    const wholeAtFrame = mapToFrame(b.map, whole.info.inputSize, 480, 480, whole.aspect);
    assert.equal(a.tiled.frameMap.length, 480 * 480);
    let tilesWin = 0;
    for (let i = 0; i < wholeAtFrame.length; i++) {
      assert.ok(a.tiled.frameMap[i]! >= wholeAtFrame[i]! - 1e-6);
      if (a.tiled.frameMap[i]! > wholeAtFrame[i]! + 1e-6) tilesWin++;
    }
    assert.ok(tilesWin > 0, "the tiles raise some of the map");
    // Served at the frame's size from the combined map; at another size, resized from it.
    const d = await tiled.detect({ kind: "encoded", bytes: new Uint8Array(bytes) }, { classTag: "sheet" });
    assert.equal(d.score, a.score);
    assert.equal((await d.frameMap()).length, 480 * 480);
    assert.equal(tiled.servedMap(a, 120, 120).length, 120 * 120);
    // Map only: the same map, the whole frame's score (and so its verdict).
    const mapOnlyDir = join(dir, "map-only");
    const mapOnlyManifest = { ...bundle.manifest, tiling: { classes: { sheet: { ...sheet, mapOnly: true } } } };
    await writeCandidate(mapOnlyDir, mapOnlyManifest, (name) => bundle.file(name), withoutFiles(mapOnlyManifest), {}, 1);
    const mapOnly = await loadDetector(mapOnlyDir, { intraOpThreads: 1 });
    try {
      assert.equal(mapOnly.info.tiledClasses!.sheet!.mapOnly, true);
      const m = await mapOnly.scoreImage(image, 0, "sheet");
      assert.equal(m.score, b.score);
      assert.equal(m.tiled!.tileScore, a.tiled.tileScore);
      assert.deepEqual([...m.tiled!.frameMap], [...a.tiled.frameMap]);
      assert.ok(a.tiled.tileScore > b.score, "the line's tiles outscore the whole frame, so map only changes the score");
      // Served, its tiles wait for the map: the verdict comes without them, and the map, once asked for, is the one scoreImage gives.
      const md = await mapOnly.detect({ kind: "encoded", bytes: new Uint8Array(bytes) }, { classTag: "sheet" });
      assert.deepEqual([md.score, md.isAnomalous, md.timings.tiles], [b.score, b.score > md.threshold, undefined]);
      const served = await md.frameMap();
      assert.ok((md.timings.tiles ?? 0) > 0, "the tiles' time, once they ran");
      assert.deepEqual([...served], [...mapOnly.servedMap(m, 480, 480)]);
      assert.equal(await md.frameMap(), served, "scored once");
      // With the tiles in the score they run before the verdict.
      assert.ok((d.timings.tiles ?? 0) > 0);
    } finally {
      await mapOnly.close();
    }
    // Pseudo-validation of the tiles: the held-out frames and anomalies synthesized on them, measured whole and with the tiles.
    const heldOutPaths = heldOutFrames.map((f) => join(data, f));
    const choice = await measureTileChoice(tiled, { name: "sheet", images: heldOutPaths }, { seed: 0, perClass: 4 });
    assert.deepEqual([choice.normals, choice.anomalies, choice.hairlines], [heldOutPaths.length, 8, 4]);
    // Too few normals for an image AUROC to refuse tiles by; the pixel figures are measured.
    assert.ok(choice.normals < MIN_IMAGE_NORMALS);
    assert.deepEqual([choice.whole.imageAuroc, choice.tiled.imageAuroc], [null, null]);
    for (const v of [choice.whole.pixelAuroc, choice.whole.aupro, choice.tiled.pixelAuroc, choice.tiled.aupro]) assert.ok(v !== null && v >= 0 && v <= 1, JSON.stringify(choice));
    assert.deepEqual({ kept: choice.kept, mapOnly: choice.mapOnly }, chooseTiles(choice.whole, choice.tiled));
    // No image AUROC measured, so no measured image-level gain: kept, if at all, for the map alone.
    assert.equal(choice.mapOnly, true);
    // The whole figures are the untiled detector's maps over the same samples.
    const pixels = new PixelMetricAccumulator();
    for await (const sample of tileChoiceSamples({ name: "sheet", images: heldOutPaths }, { seed: 0, perClass: 4 }, undefined)) {
      const map = mapToFrame((await whole.scoreImage(sample.image, 0, "sheet")).map, whole.info.inputSize, sample.image.width, sample.image.height, whole.aspect);
      pixels.add(pixelsRelativeToThreshold(map, whole.thresholdOf("sheet")), sample.mask ?? new Uint8Array(map.length));
    }
    assert.equal(choice.whole.pixelAuroc, pixels.auroc());
    // eval's per-image record gives a tiled frame's two scores; --no-tiling's detector none.
    await mkdir(join(data, "sheet", "test", "good"), { recursive: true });
    await writeFile(join(data, "sheet", "test", "good", "t.png"), await frame(480, 88));
    for (const [detector, tiles] of [[tiled, true], [whole, false]] as const) {
      const seen: ImageScore[] = [];
      await evaluate(detector, { data, classes: ["sheet"], onImage: (r) => seen.push(r), log: () => {}, progressSink: () => {} });
      assert.equal(seen.length, 1);
      if (!tiles) assert.equal(seen[0]!.tiles, undefined);
      else assert.equal(seen[0]!.score, Math.max(seen[0]!.tiles!.wholeScore, seen[0]!.tiles!.tileScore));
    }
    // A frame of the untiled class is scored whole, as by the untiled detector.
    const small = await decodeEncoded(await frame(96, 5));
    const s1 = await tiled.scoreImage(small, 0, "small");
    assert.equal(s1.tiled, undefined);
    assert.equal(s1.score, (await whole.scoreImage(small, 0, "small")).score);
  } finally {
    await tiled.close();
    await whole.close();
  }

  // A refresh learns a tiled class's accepted frames in its tile bundle too, from their tiles; the other class's frames only in the whole model.
  const acceptedDir = join(dir, "accepted");
  await mkdir(acceptedDir);
  const accepted: AcceptedFrame[] = [];
  // The second sheet frame is the held-out frame's twin: its tiles in the tile bank move the tile map's unit, which that frame measures.
  for (const [i, cls, size] of [[0, "sheet", 480], [1, "sheet", 480], [2, "small", 96]] as const) {
    const bytes = i === 1 ? await readFile(join(data, heldOutFrames[0]!)) : await frame(size, 500 + i);
    const path = join(acceptedDir, `${i}.png`);
    await writeFile(path, bytes);
    accepted.push({ path, sha256: sha256(bytes), classTag: cls });
  }
  const refreshed = join(dir, "refreshed");
  const refreshCtx = jobContext("refresh", out, refreshed, accepted, { holdout: 0 });
  const done = await refreshMemoryBank(refreshCtx);
  // The job's progress follows the frame threshold's scorings.
  const measuring = refreshCtx.reports.filter((r) => /^sheet tiles: (held-out frames|bank frames scored unseen|the whole model's map unit)$/.test(r.message));
  assert.deepEqual([...new Set(measuring.map((r) => r.message))], ["sheet tiles: held-out frames", "sheet tiles: bank frames scored unseen", "sheet tiles: the whole model's map unit"]);
  assert.ok(measuring.some((r) => r.done === r.total && r.total > 0));
  assert.deepEqual(Object.keys(done.summary.tiles as object), ["sheet"]);
  assert.deepEqual([(done.summary.tiles as Record<string, { frames: number; tiles: number }>).sheet!.frames, (done.summary.tiles as Record<string, { frames: number; tiles: number }>).sheet!.tiles], [2, 8]);
  const next = await readBundle(refreshed);
  const nextSheet = next.manifest.tiling!.classes.sheet!;
  assert.equal(nextSheet.manifest.parentVersion, sheet.manifest.version);
  assert.ok(nextSheet.manifest.memory.coresetSize > sheet.manifest.memory.coresetSize, `${sheet.manifest.memory.coresetSize} → ${nextSheet.manifest.memory.coresetSize} tile rows`);
  assert.deepEqual(nextSheet.manifest.dataSnapshot!.accepted.map((a) => a.classTag), Array(8).fill("sheet"));
  assert.equal(nextSheet.grid, sheet.grid);
  // Its frame threshold and map units measured again on the new tile bundle and the whole candidate, over fit's frames of the class.
  const tileView = tileBundleOf(next, "sheet");
  const { files: _tileHashes, ...tileManifest } = tileView.manifest;
  await writeBundle(join(dir, "refreshed-sheet-tiles"), tileManifest, filesOf(tileView));
  const sheetFrames = (await readdir(join(data, "sheet", "train", "good"))).map((f) => join(data, "sheet", "train", "good", f));
  const heldOutSheet = heldOutFrames.map((f) => join(data, f));
  const again = await measureFrameUnits(join(dir, "refreshed-sheet-tiles"), refreshed, "sheet", { heldOut: heldOutSheet, bank: sheetFrames.filter((f) => !heldOutSheet.includes(f)) }, 2, 0, config.threshold.quantile, { intraOpThreads: 1 });
  assert.deepEqual([nextSheet.frameThreshold, nextSheet.frames, nextSheet.pixelUnits], [again.frameThreshold, 10, again.pixelUnits]);
  assert.ok(nextSheet.pixelUnits!.tiles < sheet.pixelUnits!.tiles, `the held-out frame's twin's tile rows lower its tile map's unit: ${sheet.pixelUnits!.tiles} → ${nextSheet.pixelUnits!.tiles}`);
  assert.deepEqual((done.summary.tiles as Record<string, { frameThreshold: unknown }>).sheet!.frameThreshold, { before: sheet.frameThreshold, after: nextSheet.frameThreshold, measuredOn: 10 });
  // No file of the old tile bundle is left behind, and the candidate loads with its tiles.
  assert.ok(Object.keys(next.manifest.files).filter((n) => n.startsWith("tiles.sheet.")).every((n) => nextSheet.manifest.files[n.slice("tiles.sheet.".length)] !== undefined));
  const refreshedDetector = await loadDetector(refreshed, { intraOpThreads: 1 });
  await refreshedDetector.close();
  // Where fit's frames of the class are gone, the refresh keeps fit's frame threshold and map units, and says so.
  for (const f of heldOutSheet) await rename(f, `${f}.gone`);
  try {
    const warnings: string[] = [];
    // Half the accepted frames held out: the tile bundle calibrates its own threshold on their tiles.
    const ctx = jobContext("refresh", out, join(dir, "refreshed-without-data"), accepted, { holdout: 0.5 });
    const kept = await refreshMemoryBank({ ...ctx, log: pino({ level: "warn" }, { write: (line: string) => void warnings.push((JSON.parse(line) as { msg: string }).msg) }) });
    const keptSheet = (await readBundle(join(dir, "refreshed-without-data"))).manifest.tiling!.classes.sheet!;
    assert.deepEqual([keptSheet.frameThreshold, keptSheet.frames, keptSheet.pixelUnits], [sheet.frameThreshold, sheet.frames, sheet.pixelUnits]);
    assert.equal((kept.summary.tiles as Record<string, { frameThreshold: { measuredOn: number } }>).sheet!.frameThreshold.measuredOn, 0);
    assert.ok(warnings.some((w) => /sheet tiles: fit's frame threshold and map units kept, not measured again/.test(w)), warnings.join("\n"));
  } finally {
    for (const f of heldOutSheet) await rename(`${f}.gone`, f);
  }

  // A refresh with no frame of the tiled class leaves its tile bundle, and measures the whole model's map unit again on the new whole model.
  const smallOnly = join(dir, "refreshed-small-only");
  const infos: string[] = [];
  const smallCtx = jobContext("refresh", out, smallOnly, accepted.filter((a) => a.classTag === "small"), { holdout: 0 });
  await refreshMemoryBank({ ...smallCtx, log: pino({ level: "info" }, { write: (line: string) => void infos.push((JSON.parse(line) as { msg: string }).msg) }) });
  // (The small frame's rows leave the sheet's maps as they were here, so the log shows that it was measured.)
  assert.ok(infos.some((m) => /^refresh: sheet tiles: the whole model's map unit measured again on \d+ held-out frames/.test(m)), infos.join("\n"));
  const smallOnlySheet = (await readBundle(smallOnly)).manifest.tiling!.classes.sheet!;
  assert.equal(smallOnlySheet.manifest.version, sheet.manifest.version);
  assert.equal(smallOnlySheet.frameThreshold, sheet.frameThreshold);
  const smallOnlyWhole = await loadDetector(smallOnly, { intraOpThreads: 1, tiling: false });
  try {
    assert.deepEqual(smallOnlySheet.pixelUnits, { whole: await pixelUnitOf(smallOnlyWhole, heldOutSheet, "sheet"), tiles: sheet.pixelUnits.tiles });
  } finally {
    await smallOnlyWhole.close();
  }

  // lafite tune re-tunes the whole model, and measures its map unit for the tiled class again; the tiles' figures stay.
  const tunedDir = join(dir, "tuned");
  await writeCandidate(tunedDir, bundle.manifest, (name) => bundle.file(name), withoutFiles(bundle.manifest), {}, 1);
  await tuneBundle({ bundle: tunedDir, data, perClass: 2, intraOpThreads: 1, log: () => {}, progressSink: () => {} });
  const tunedSheet = (await readBundle(tunedDir)).manifest.tiling!.classes.sheet!;
  assert.notEqual(tunedSheet.pixelUnits!.whole, sheet.pixelUnits.whole, "the re-tuned whole model's maps have another unit");
  const tunedWhole = await loadDetector(tunedDir, { intraOpThreads: 1, tiling: false });
  try {
    assert.deepEqual([tunedSheet.frameThreshold, tunedSheet.pixelUnits], [sheet.frameThreshold, { whole: await pixelUnitOf(tunedWhole, heldOutSheet, "sheet"), tiles: sheet.pixelUnits.tiles }]);
  } finally {
    await tunedWhole.close();
  }

  // A tiling naming a class the data set has no training images of is refused before any work.
  await assert.rejects(fitModel({ ...fitOptions, out: join(dir, "b2"), config: parseModelConfig({ tiling: { classes: ["sheet", "veneer"] }, diffusion: { preset: "none" }, scoring: { mode: "knn" } }) }), /tiling\.classes names veneer, which .* has no training images of/);
  // Left out by the fit's own class list, it is named as such.
  await assert.rejects(fitModel({ ...fitOptions, out: join(dir, "b3"), classes: ["small"] }), /tiling\.classes names sheet, which the fit's classes \(--class small\) do not include/);
});
