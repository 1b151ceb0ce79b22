/**
 * `lafite fit`: one unified model for all classes of a data set, from their
 * normal training images only.
 *   1. backbone features of every train/good image (a few per class held out)
 *   2. per-channel standardization statistics
 *   3. coreset of the feature slices (greedy k-center) → FAISS index + raw rows
 *   4. (lafite / no-edit modes) the diffusion model, trained on device
 *   5. the pseudo-validation set (held-out normals + synthesized anomalies)
 *      → τ and K tuned on it (unless --no-tune) → a threshold per mode by
 *      the configured rule
 *   6. an atomically written, verified bundle
 */
import { readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { relative, resolve } from "node:path";
import { pseudoRecipe, type ModelConfig } from "../model/model-config.js";
import { scanDataset, type DatasetClass } from "../dataset/mvtec-layout.js";
import { readImageFile } from "../image/read-image-file.js";
import { BackboneRunner, sessionOptions } from "../model/backbone-runner.js";
import { FeatureStatsAccumulator, standardizeInPlace, type FeatureStats } from "../model/feature-stats.js";
import { coresetProjection } from "../model/memory/coreset.js";
import { candidatesPerClass, coresetBudget } from "../model/memory/candidates.js";
import { bankCoreset, classCoresetWork } from "../model/memory/class-coreset.js";
import { FaissIndex } from "../model/memory/faiss-index.js";
import { classMeansOf, frameMean, lightRangeText, misreadings, withAlike, withReach } from "../model/memory/class-means.js";
import { float32Bytes, int32Bytes, newVersionId, sha256, writeBundle, type BundleManifest, type TuningRecord } from "../model/bundle.js";
import { detailStagesOf, resolveBackbone } from "../model/backbone-source.js";
import { pseudoSamples, swapSamples, warpSamples } from "../image/pseudo/index.js";
import { extractPseudoFeatures } from "./tune/pseudo-features.js";
import { runTuning, type TuneResult } from "./tune/run-tuning.js";
import { trainedTaus } from "./tune/trained-taus.js";
import { withScoreMemo } from "./score-memo.js";
import { calibrateModes, type ScoredSet } from "./tune/calibrate.js";
import { classesShortOfNormals, describeLeftOut, evenlyPicked, MAX_LEFT_OUT_PER_CLASS, type LeftOutMap } from "./tune/left-out.js";
import type { ThresholdParams } from "../model/scoring/threshold.js";
import { detailTuneWork, tuneDetailWeight } from "./tune/detail-weight.js";
import { DETAIL_MODES, type DetailScoring } from "../model/scoring/detail-bank.js";
import { contextChannelsOf, type ContextScoring } from "../model/scoring/context-bank.js";
import { contextCoreset, type ContextBankRows } from "../model/memory/context-coreset.js";
import { resolveExecutionProvider } from "../model/execution-provider.js";
import { diffusionPreset, trainDiffusion, unetParamSpecs, UNET_PRESETS, type DiffusionConfig } from "../model/diffusion/index.js";
import { totalSteps, trainingSetSize } from "../model/diffusion/training-plan.js";
import { encodeReplay, pickReplay, replayCapacity } from "../model/diffusion/replay.js";
import { checkpointDirBeside } from "../model/diffusion/checkpoint.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import { evenlySpacedIndices } from "../util/evenly-spaced.js";
import { Progress, stderrSink, throwIfCancelled, type ProgressSink } from "../util/progress.js";
import { FitEta, type FitStage, type FitWork } from "./fit-eta.js";
import { tuneEdgeCorrection, describeEdgeChoice } from "./tune/edge-correction.js";
import type { EdgeProfiles } from "../model/scoring/edge-profile.js";
import { tuneSizeCorrection } from "./tune/size-correction.js";
import { describeSizeChoice, type SizeTrends } from "../model/scoring/size-trend.js";
import { describeProfileChoice, type PositionProfiles } from "../model/scoring/position-profile.js";
import { profileTuneWork, tuneProfiles } from "./tune/position-profile.js";
import type { FeatureMap, ScoringMode } from "./types.js";
import { frameFitOf } from "../image/geometry.js";
import { fitTiles, longSides, tileFitConfig, tileFitSeconds, tileGrids, tileScoringSeconds, tileWorkDir, wholeBundleDir } from "./tiling/fit-tiles.js";
import { chooseAutoTiling, describeAutoTiling, type AutoTilingCandidate } from "./tiling/auto-tiling.js";
import { tileFilesInParent } from "../model/tiling.js";

export interface FitOptions {
  readonly data: string;
  readonly out: string;
  readonly config: ModelConfig;
  readonly cacheDir: string;
  readonly classes?: readonly string[];
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly log?: (msg: string) => void;
  readonly progressSink?: ProgressSink;
  readonly executionProvider?: "cpu" | "cuda";
  readonly intraOpThreads?: number;
  /** Tune τ and K on the pseudo-validation set (default true; `lafite fit --no-tune` skips). */
  readonly tune?: boolean;
  /** The classes to fit, instead of scanning `data` (tiling's tile classes, whose paths are tile references under it). */
  readonly dataset?: readonly DatasetClass[];
  /** Seconds of work after this fit that its ETA counts (the tile fits still to come, for a tile fit). */
  readonly etaAfter?: number;
}

interface TrainImage {
  readonly path: string;
  readonly cls: string;
  readonly holdout: boolean;
}

/** Evenly spaced held-out picks, so the split does not depend on file order quirks beyond sorting. */
export function holdoutIndices(n: number, fraction: number): Set<number> {
  if (fraction <= 0 || n < 4) return new Set();
  return evenlySpaced(n, Math.max(1, Math.floor(n * fraction)));
}

/**
 * Fit's held-out picks for a class of n training images: the `holdout` share
 * (holdoutIndices), raised to minClassNormals when per-class thresholds are on,
 * the share gives fewer, and minClassNormals is at most `classHoldoutCap` of
 * the class. Without it a class of 50–99 images (10 % held out: 5–9) is judged
 * by the model's threshold, which other classes' normals set: the demo's
 * fabric, 6 held out of 60, then flagged 10 of its 15 good test frames at
 * image AUROC 100; 10 held out gave it its own threshold and none.
 */
export function classHoldoutIndices(n: number, t: Pick<ModelConfig["threshold"], "holdout" | "perClass" | "minClassNormals" | "classHoldoutCap">): Set<number> {
  const base = holdoutIndices(n, t.holdout);
  if (base.size === 0 || !t.perClass || base.size >= t.minClassNormals || t.minClassNormals > n * t.classHoldoutCap) return base;
  return evenlySpaced(n, t.minClassNormals);
}

/** A class's training images split into the bank's and the held-out ones (threshold and pseudo-validation), and why. */
export interface TrainingSplit {
  readonly bank: readonly string[];
  readonly heldOut: readonly string[];
  /** validation: the class's validation/good folder; raised: classHoldoutIndices held out more than the share; share: the holdout share. */
  readonly by: "validation" | "raised" | "share";
}

/**
 * Fit's split of one class: a validation/good folder (MVTec LOCO AD) is the
 * held-out set and every train/good image goes into the bank; otherwise
 * classHoldoutIndices picks the held-out images from train/good.
 */
export function splitTraining(cls: Pick<DatasetClass, "train" | "validation">, t: Parameters<typeof classHoldoutIndices>[1]): TrainingSplit {
  if (cls.validation.length > 0) return { bank: cls.train, heldOut: cls.validation, by: "validation" };
  const held = classHoldoutIndices(cls.train.length, t);
  return {
    bank: cls.train.filter((_, i) => !held.has(i)),
    heldOut: cls.train.filter((_, i) => held.has(i)),
    by: held.size > holdoutIndices(cls.train.length, t.holdout).size ? "raised" : "share",
  };
}

/** The bank maps of the classes short of held-out normals (left-out.ts), at most MAX_LEFT_OUT_PER_CLASS each, evenly spaced. */
export function leftOutMapsOf(params: ThresholdParams, heldOutClasses: readonly string[], bank: readonly FeatureMap[], bankClasses: readonly string[]): LeftOutMap[] {
  return classesShortOfNormals(params, heldOutClasses, bankClasses).flatMap((cls) => evenlyPicked(bank.filter((_, i) => bankClasses[i] === cls)).map((x) => ({ cls, x })));
}

function evenlySpaced(n: number, count: number): Set<number> {
  return new Set(evenlySpacedIndices(n, count));
}

export async function fitModel(options: FitOptions): Promise<BundleManifest> {
  // `requested` may leave the tiled classes to the auto rule; `config`, below, names them.
  const { config: requested, signal } = options;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    timings[name] = Math.round(performance.now() - t);
    t = performance.now();
  };

  const classes = options.dataset ?? (await scanDataset(options.data, options.classes ? { classes: options.classes } : {}));
  const named = requested.tiling.classes === "auto" ? [] : requested.tiling.classes;
  const untiled = named.filter((name) => !classes.some((c) => c.name === name && c.train.length > 0));
  if (untiled.length > 0) throw new LafiteError(ErrorCode.INVALID_CONFIG, `tiling.classes names ${untiled.join(", ")}, which ${options.classes ? `the fit's classes (--class ${options.classes.join(", ")}) do not include, or ` : ""}${options.data} has no training images of`);
  const images: TrainImage[] = [];
  const classCounts: Record<string, { train: number; holdout: number }> = {};
  for (const cls of classes) {
    if (cls.train.length === 0) {
      log(`fit: class ${cls.name} has no train/good images; skipped`);
      continue;
    }
    const split = splitTraining(cls, requested.threshold);
    if (split.by === "raised") {
      log(`fit: ${cls.name}: ${split.heldOut.length} of ${cls.train.length} training images held out (threshold.minClassNormals, within threshold.classHoldoutCap ${requested.threshold.classHoldoutCap}), so it gets its own threshold`);
    } else if (split.by === "validation") {
      log(`fit: ${cls.name}: its ${split.heldOut.length} validation/good images are held out for the threshold, and all ${split.bank.length} train/good images go into the bank`);
    }
    // In file order (train/good, then validation/good), as before the split had reasons: the order seeds the candidate draw and training.
    const held = new Set(split.heldOut);
    for (const path of [...cls.train, ...cls.validation]) images.push({ path, cls: cls.name, holdout: held.has(path) });
    classCounts[cls.name] = { train: split.bank.length, holdout: split.heldOut.length };
  }
  if (images.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `no training images in ${options.data} (expected <class>/train/good/*)`);
  const holdoutCount = images.filter((i) => i.holdout).length;
  if (holdoutCount === 0) {
    throw new LafiteError(ErrorCode.BAD_DATASET, "no held-out images to calibrate the threshold: each class needs at least 4 training images and threshold.holdout > 0");
  }
  log(`fit: ${images.length} training images in ${Object.keys(classCounts).length} classes (${holdoutCount} held out for the threshold)`);

  const ep = await resolveExecutionProvider(options.executionProvider ?? "cpu", log);
  const sessOpts = sessionOptions(ep, options.intraOpThreads);
  const backboneSource = await resolveBackbone(requested, options.cacheDir);
  const backbone = await BackboneRunner.open(backboneSource.onnx, backboneSource.inputSize, sessOpts, frameFitOf(requested));
  const { c, h, w } = backbone.shape;
  log(`fit: backbone ${backboneSource.name}, features ${c}×${h}×${w}`);
  // The auto rule's classes, each with the grid it counted their tiles by.
  const autoTiled = requested.tiling.classes === "auto" ? await autoTiledClasses(requested.tiling, images, classCounts, backbone.inputSize, log) : undefined;
  const config: FitConfig = { ...requested, tiling: { ...requested.tiling, classes: autoTiled ? Object.keys(autoTiled) : named } };
  lap("prepare");
  const dcfg = config.diffusion.preset !== "none" ? diffusionConfigOf(config, ep, options.intraOpThreads) : undefined;
  // Bank images the threshold stage scores left out (left-out.ts), as classes short of held-out normals give them.
  const shortClasses = classesShortOfNormals(config.threshold, images.filter((i) => i.holdout).map((i) => i.cls), Object.keys(classCounts));
  const leftOutImages = shortClasses.reduce((n, cls) => n + Math.min(classCounts[cls]!.train, MAX_LEFT_OUT_PER_CLASS), 0);
  // The tiled classes' fits come after this one's stages: the ETA counts them (grids chosen now, as fitTiles will use them).
  const tiledFrames = config.tiling.classes.map((name) => {
    const own = images.filter((i) => i.cls === name);
    return { name, bank: own.filter((i) => !i.holdout).map((i) => i.path), heldOut: own.filter((i) => i.holdout).map((i) => i.path) };
  });
  const grids = autoTiled ?? (await tileGrids(config.tiling, tiledFrames, backbone.inputSize));
  const tileSizes = tiledFrames.map((f) => ({ bank: f.bank.length, heldOut: f.heldOut.length, grid: grids[f.name]!, c, h, w, tune: options.tune ?? true }));
  // The tile fits' own config: their training budget and K grid (tiling.samples, tiling.ks).
  const tileConfig = tileFitConfig(config);
  const tileDcfg = dcfg ? diffusionConfigOf(tileConfig, ep, options.intraOpThreads) : undefined;
  const tileSeconds = tileSizes.map((n) => tileFitSeconds(tileConfig, tileDcfg, n));
  const eta = new FitEta(fitWork(config, dcfg, { images: images.length, holdout: holdoutCount, bankImagesPerClass: Object.values(classCounts).map((k) => k.train), leftOutImages, c, h, w, tune: options.tune ?? true }), tileSeconds.reduce((a, b) => a + b, 0) + (options.etaAfter ?? 0));
  const sinkFor = (stage: FitStage): ProgressSink => eta.sink(stage, options.progressSink ?? stderrSink);

  // 1. Features of every image, batched through the backbone.
  const bank: FeatureMap[] = [];
  const bankClasses: string[] = [];
  const holdout: FeatureMap[] = [];
  const skipped: string[] = [];
  // Provenance: a digest over every training file's name and content, in order.
  const contentHashes = new Map<string, string>();
  const progress = new Progress("fit: features", images.length, { unit: "images", sink: sinkFor("features") });
  const S = backbone.inputSize;
  for (let start = 0; start < images.length; start += config.batchSize) {
    throwIfCancelled(signal, "fit");
    const chunk = images.slice(start, start + config.batchSize);
    const inputs = await Promise.all(
      chunk.map(async (img) => {
        try {
          const { bytes, image } = await readImageFile(img.path);
          contentHashes.set(img.path, sha256(bytes));
          return { input: await backbone.input(image), size: { width: image.width, height: image.height } };
        } catch (err) {
          skipped.push(img.path);
          log(`fit: skipping ${img.path}: ${(err as Error).message}`);
          return undefined;
        }
      }),
    );
    const ok = chunk.filter((_, i) => inputs[i] !== undefined);
    if (ok.length > 0) {
      const batch = new Float32Array(ok.length * 3 * S * S);
      const decoded = inputs.filter((x) => x !== undefined);
      decoded.forEach((x, i) => batch.set(x.input, i * x.input.length));
      const maps = await backbone.run(batch, ok.length, decoded.map((x) => x.size));
      ok.forEach((img, i) => {
        if (img.holdout) holdout.push(maps[i]!);
        else (bank.push(maps[i]!), bankClasses.push(img.cls));
      });
    }
    progress.tick(chunk.length);
  }
  if (bank.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, "no training image could be decoded");
  if (holdout.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, "no held-out image could be decoded to calibrate the threshold");
  lap("features");

  // 2. Standardization statistics from the bank images only.
  const acc = new FeatureStatsAccumulator(c);
  for (const x of bank) acc.add(x);
  const stats: FeatureStats = acc.finish();
  for (const x of bank) standardizeInPlace(x, stats);
  for (const x of holdout) standardizeInPlace(x, stats);
  // What a frame's class is read by (memory/class-means.ts): the bank images' frame means, per class.
  const bankFrameMeans = bank.map(frameMean);
  const bankMeans = classMeansOf(bankFrameMeans, bankClasses);

  // 3. Coreset over (a bounded random subsample of) all bank slices.
  const hw = h * w;
  const total = bank.length * hw;
  const { candidates, count } = coresetBudget(total, config.memory);
  const share = config.memory.perClassShare;
  log(`fit: coreset of ${count} from ${candidates} candidate slices (${total} in all, ${config.memory.sampling} sampling, keep rate ${config.memory.keepRate}, ${Math.round(100 * share)}% of the rows chosen per class)`);
  let lastTick = 0;
  let coresetProgress: Progress | undefined;
  const m = config.memory;
  const { coreset, classRows, scanFraction, searchFraction, kernel, coverageRadius, rowClasses, classNames } = await bankCoreset(bank, bankClasses, { candidates, count, sampling: m.sampling, seed: config.seed, projectionDim: m.projectionDim, perClassShare: share }, {
    ...(signal ? { signal } : {}),
    // The total (per-class picks plus the global pass) is known once the selection has split the rows.
    onProgress: (done: number, all: number) => {
      coresetProgress ??= new Progress("fit: coreset", all, { unit: "centers", sink: sinkFor("coreset") });
      coresetProgress.tick(done - lastTick);
      lastTick = done;
    },
  });
  log(`fit: coreset rows per class: ${Object.entries(classRows).map(([k, v]) => `${k} ${v}`).join(", ")}; selection measured ${(100 * scanFraction).toFixed(0)}% of the candidate–center distances one by one (${kernel === "wasm" ? "WebAssembly" : "JavaScript"} loops)${searchFraction > 0 ? ` and ${(100 * searchFraction).toFixed(0)}% in one matrix product (each candidate's nearest class pick)` : ""}; the rest were ruled out by the triangle inequality`);
  const index = FaissIndex.build(coreset, count, c, config.memory.index);
  lap("coreset");

  // 4. Diffusion model of the normal (standardized) features: needed by lafite and no-edit.
  let unetOnnx: Uint8Array | undefined;
  let diffusionInfo: Record<string, unknown> = {};
  const d = config.diffusion;
  if (dcfg) {
    throwIfCancelled(signal, "fit");
    // Checkpoints live beside the output so an interrupted fit resumes training where it stopped.
    const checkpointDir = checkpointDirBeside(options.out);
    const trained = await trainDiffusion(bank.map((x) => x.data), { c, h, w }, dcfg, { ...(signal ? { signal } : {}), checkpointDir, log, progressSink: sinkFor("diffusion"), ...(d.minutes !== undefined ? { timeBudgetSeconds: d.minutes * 60 } : {}) });
    unetOnnx = trained.unetOnnx;
    diffusionInfo = { preset: d.preset, steps: trained.steps, tMax: dcfg.tMax ?? dcfg.T, ema: dcfg.ema ?? null, minSnr: dcfg.minSnr ?? null, finalLoss: trained.finalLoss, samplesUsed: trained.samplesUsed, samplesPerSecond: trained.samplesPerSecond, executionProvider: trained.executionProvider };
    await rm(checkpointDir, { recursive: true, force: true });
    lap("diffusion");
  } else if (config.scoring.mode !== "knn") {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `scoring.mode '${config.scoring.mode}' needs the diffusion model; set diffusion.preset (not none) or use mode knn`);
  }

  // 5. The pseudo-validation set from the held-out images only (paper 3.4): tuning, then thresholds, scored exactly as serving will.
  const heldOut = images.filter((i) => i.holdout && !skipped.includes(i.path));
  // The pairs of classes the means confuse on the held-out normals: a tag mismatch between them is no sign of a wrong part (model.classTagMismatch: distinct).
  const heldOutClasses = heldOut.map((i) => i.cls);
  const misread = misreadings(bankMeans, holdout, heldOutClasses);
  // How far each class's normals lie from its mean: its bank images (each left out of the mean) and held-out normals.
  const classMeans = withReach(withAlike(bankMeans, misread, heldOutClasses), [
    ...bankFrameMeans.map((mean, i) => ({ cls: bankClasses[i]!, mean, inMean: true, light: bank[i]!.light })),
    ...holdout.map((x, i) => ({ cls: heldOutClasses[i]!, mean: frameMean(x), inMean: false, light: x.light })),
  ]);
  for (const [cls, as] of Object.entries(misread)) {
    const of = heldOut.filter((i) => i.cls === cls).length;
    log(`fit: ${Object.entries(as).map(([other, n]) => `${n} of ${cls}'s ${of} held-out normals read as ${other}`).join(", ")}${classMeans.alike?.[cls]?.length ? `: ${cls} looks alike to the model (${classMeans.alike[cls]!.join(", ")}); a line that tags ${cls} frames gets those that read as another class NG under the daemon's model.classTagMismatch: ng (the default), judged by their score under distinct (only for look-alike classes) or judge` : ""}`);
  }
  const unreached = Object.entries(classMeans.classes).filter(([, m]) => m.reach === undefined).map(([cls]) => cls);
  log(`fit: each class's reach (how far its normals' look lies from its mean; a served frame over model.unlikeMargin reaches from its class's is NG as like no class): ${Object.entries(classMeans.classes).flatMap(([cls, m]) => (m.reach !== undefined ? [`${cls} ${m.reach.toFixed(3)}`] : [])).join(", ") || "none"}${unreached.length ? `; too few normals for one: ${unreached.join(", ")} (no gate for them)` : ""}`);
  log(`fit: each class's light (its normals' lowest to highest mean level, r/g/b; a served frame lit over model.unlikeMargin half-ranges from its middle is NG as like no class): ${Object.entries(classMeans.classes).flatMap(([cls, m]) => (m.light ? [`${cls} ${lightRangeText(m.light)}`] : [])).join(", ") || "none"}`);
  const pseudoClasses = Object.keys(classCounts)
    .map((name) => ({ name, images: heldOut.filter((i) => i.cls === name).map((i) => i.path) }))
    .filter((c) => c.images.length > 0);
  const tc = config.tuning;
  const pseudoProgress = new Progress("fit: pseudo-validation set", pseudoClasses.reduce((n, c) => n + c.images.length + tc.perClass, 0), { unit: "images", sink: sinkFor("pseudo") });
  const pseudoSet = await extractPseudoFeatures(
    pseudoSamples(pseudoClasses, { ...pseudoRecipe(tc), ...(signal ? { signal } : {}) }),
    backbone,
    stats,
    { ...(signal ? { signal } : {}), progress: pseudoProgress },
  );
  // Swapped parts (image/pseudo/swap.ts): what the context bank's weight per class is chosen on.
  const contextTuned = (options.tune ?? true) && DETAIL_MODES.includes(config.scoring.mode) && tc.contextWeights.some((v) => v > 0) && tc.swaps > 0;
  const swapProgress = contextTuned ? new Progress("fit: swapped parts", pseudoClasses.length * tc.swaps, { unit: "tries", sink: sinkFor("pseudo") }) : undefined;
  const swapSet = contextTuned ? await extractPseudoFeatures(swapSamples(pseudoClasses, { seed: tc.seed, perClass: tc.swaps, ...(signal ? { signal } : {}), onTried: () => swapProgress?.tick() }), backbone, stats, signal ? { signal } : {}) : [];
  // Warped edges (image/pseudo/warp.ts): what the detail bank's weight per class is also chosen on.
  // The detail bank's stages (none for a user ONNX backbone without a run of them): its weight is tuned below.
  const detailPlan = detailStagesOf(config, backboneSource);
  const warpsTuned = (options.tune ?? true) && DETAIL_MODES.includes(config.scoring.mode) && tc.detailPerClass && tc.warps > 0 && detailPlan !== undefined;
  const warpProgress = warpsTuned ? new Progress("fit: warped edges", pseudoClasses.length * tc.warps, { unit: "images", sink: sinkFor("pseudo") }) : undefined;
  const warpSet = warpsTuned ? await extractPseudoFeatures(warpSamples(pseudoClasses, { seed: tc.seed, perClass: tc.warps, ...(signal ? { signal } : {}) }), backbone, stats, { ...(signal ? { signal } : {}), ...(warpProgress ? { progress: warpProgress } : {}) }) : [];
  await backbone.release();
  lap("pseudo");
  // The context bank's rows, for the classes the swaps can weigh it for (as many as each has in the main bank).
  let contextBank: (ContextBankRows & { coverageRadius: number }) | undefined;
  const lambda = config.scoring.context.lambda;
  if (contextTuned) {
    const swapsPerClass = countBy(swapSet.map((f) => f.cls));
    const counts = Object.fromEntries(Object.entries(swapsPerClass).filter(([, n]) => n >= tc.minSwaps).map(([cls]) => [cls, classRows[cls] ?? 0]));
    log(`fit: ${swapSet.length} swapped parts (${Object.entries(swapsPerClass).map(([k, n]) => `${k} ${n}`).join(", ") || "no class has frames of one size whose parts differ from frame to frame"}); context bank rows for ${Object.keys(counts).length === 0 ? "no class" : Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", ")}`);
    if (Object.keys(counts).length > 0) {
      contextBank = await contextCoreset(bank, bankClasses, classNames, counts, { candidates, sampling: m.sampling, seed: config.seed, projectionDim: m.projectionDim, lambda, channels: contextChannelsOf(backboneSource.stageChannels, c) }, signal ? { signal } : {});
    }
    lap("context");
  }
  const base = { mapSize: S, sigma: config.scoring.sigma, pool: config.scoring.pool, imageScore: config.scoring.imageScore, top: config.scoring.top, k: config.memory.k, tau: config.scoring.tau, deltaT: config.scoring.deltaT, eta: config.scoring.eta };
  let tuning: TuningRecord | undefined;
  let chosen = { tau: base.tau, deltaT: base.deltaT, k: Math.min(base.k, count), imageScore: base.imageScore };
  let chosenScores: TuneResult["chosenScores"] | undefined;
  const modes: ScoringMode[] = unetOnnx ? ["knn", "edit-only", "lafite", "no-edit"] : ["knn", "edit-only"];
  let detail: DetailScoring | undefined;
  let context: ContextScoring | undefined;
  let edges: EdgeProfiles | undefined;
  let sizes: SizeTrends | undefined;
  let profiles: PositionProfiles | undefined;
  // Every pass below scores the same pseudo-validation maps: the memo keeps each map's bank search (at the largest K swept) and each setting's main pass.
  const bankParts = { coreset, coresetSize: count, c, ...(unetOnnx ? { unetOnnx } : {}), rowClasses: { classes: rowClasses, names: classNames }, classMeans, ...(contextBank ? { contextBank } : {}) };
  const thresholds = await withScoreMemo(bankParts, Math.max(config.memory.k, ...((options.tune ?? true) ? tc.ks : [])), sessOpts, async (parts) => {
    if (options.tune ?? true) {
      const tuned = await runTuning({
        set: pseudoSet,
        parts,
        base,
        tuning: { ...tc, taus: trainedTaus(tc.taus, config.diffusion.tMax) },
        sessionOptions: sessOpts,
        ...(signal ? { signal } : {}),
        progressSink: sinkFor("tune"),
        log: (m) => log(`fit: ${m}`),
      });
      tuning = tuned.record;
      chosen = tuned.chosen;
      chosenScores = tuned.chosenScores;
      lap("tune");
    }
    const settings = { ...base, ...chosen };
    // The detail bank's weight, on the same set; its pass over every mode also gives calibration its scores.
    const detailWeights = (options.tune ?? true) ? config.tuning.detailWeights : [config.scoring.detail.weight];
    // With a detail bank the sweep's scores replace the tuning's (no-edit, which gets none, keeps the tuning's if it has them).
    let scored: readonly ScoredSet[] = chosenScores ? [chosenScores] : [];
    if (detailPlan && (detailWeights.some((v) => v > 0) || contextBank) && DETAIL_MODES.includes(config.scoring.mode)) {
      const progress = new Progress(contextBank ? "fit: detail and context banks" : "fit: detail bank", detailTuneWork(pseudoSet.length, modes, contextBank ? swapSet.length : -1, warpSet.length), { unit: "scorings", sink: sinkFor("threshold") });
      const contextInput = contextBank ? { context: { lambda, weights: tc.contextWeights, margin: tc.contextMargin, tolerance: tc.contextTolerance, minSwaps: tc.minSwaps, swaps: swapSet } } : {};
      const tunedDetail = await tuneDetailWeight({ set: pseudoSet, parts, settings, modes, servedMode: config.scoring.mode, ...detailPlan, weights: detailWeights, perClass: config.tuning.detailPerClass, ...contextInput, ...(warpSet.length > 0 ? { warps: { samples: warpSet, min: tc.minWarps } } : {}), sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress, log: (m) => log(`fit: ${m}`) });
      detail = tunedDetail.detail;
      context = tunedDetail.context;
      scored = [...tunedDetail.scored, ...scored.filter((k) => !DETAIL_MODES.includes(k.mode))];
      if (tuning && tunedDetail.record) tuning = { ...tuning, detail: tunedDetail.record };
      if (tuning && tunedDetail.contextRecord) tuning = { ...tuning, context: tunedDetail.contextRecord };
    } else if (detailPlan) {
      detail = { ...detailPlan, weight: 0 };
    }
    // The size correction per class, on its held-out normals in the served mode: it scales image scores, so the served mode is calibrated again with it.
    if ((options.tune ?? true) && tc.sizeCorrection) {
      const progress = new Progress("fit: size correction", pseudoSet.filter((f) => !f.anomalous).length, { unit: "scorings", sink: sinkFor("threshold") });
      const tunedSizes = await tuneSizeCorrection({ set: pseudoSet, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}) }, mode: config.scoring.mode, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      sizes = tunedSizes.sizes;
      if (tuning) tuning = { ...tuning, sizes: tunedSizes.record };
      if (sizes) scored = scored.filter((k) => k.mode !== sizes!.mode);
      log(`fit: ${describeSizeChoice(tunedSizes.record)}`);
    }
    // The position profile per class, on the served mode's maps with the size correction: it changes image scores, so the served mode is calibrated again with it.
    // Only with per-class thresholds: a profiled class's scores are in its own units, and need a threshold of their own.
    if ((options.tune ?? true) && tc.positionProfile && config.threshold.perClass) {
      const progress = new Progress("fit: position profile", profileTuneWork(pseudoSet, config.threshold.minClassNormals), { unit: "scorings", sink: sinkFor("threshold") });
      const tuned = await tuneProfiles({ set: pseudoSet, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}) }, mode: config.scoring.mode, minClassNormals: config.threshold.minClassNormals, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      profiles = tuned.profiles;
      if (tuning) tuning = { ...tuning, profiles: tuned.record };
      if (profiles) scored = scored.filter((k) => k.mode !== profiles!.mode);
      log(`fit: ${describeProfileChoice(tuned.record)}`);
    }
    // The edge correction per class, on the maps of the served mode at the final settings (it leaves image scores, so thresholds, as they are).
    if ((options.tune ?? true) && tc.edgeCorrection) {
      const progress = new Progress("fit: edge correction", pseudoSet.length, { unit: "scorings", sink: sinkFor("threshold") });
      const tunedEdges = await tuneEdgeCorrection({ set: pseudoSet, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}) }, mode: config.scoring.mode, margin: tc.edgeMargin, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      edges = tunedEdges.edges;
      if (tuning) tuning = { ...tuning, edges: tunedEdges.record };
      log(`fit: ${describeEdgeChoice(tunedEdges.record)}`);
    }
    const leftOut = leftOutMapsOf(config.threshold, heldOut.map((i) => i.cls), bank, bankClasses);
    if (leftOut.length > 0) log(`fit: ${describeLeftOut(leftOut)}`);
    return calibrateModes(pseudoSet, parts, { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) }, modes, config.threshold, sessOpts, { ...(signal ? { signal } : {}), log: (m) => log(`fit: ${m}`), scored, leftOut });
  });
  lap("threshold");

  // 6. The bundle.
  const createdAt = new Date();
  // What lifecycle jobs need later: the selection's projection (to refresh the bank in the same space) and a replay sample of the features (to fine-tune).
  const projection = coresetProjection(config.seed, c, config.memory.projectionDim);
  const replay = unetOnnx ? replaySample(bank, config.diffusion.replayMB, config.seed) : undefined;
  const files = {
    "backbone.onnx": backboneSource.onnx,
    "coreset.f32": float32Bytes(coreset),
    "coreset.faiss": new Uint8Array(index.toBuffer()),
    ...(unetOnnx ? { "denoiser.onnx": unetOnnx } : {}),
    ...(projection ? { "coreset-projection.f32": float32Bytes(projection) } : {}),
    ...(replay ? { "replay.f16": replay.bytes } : {}),
    "coreset-classes.i32": int32Bytes(rowClasses),
    ...(contextBank ? { "context-bank.f32": float32Bytes(contextBank.rows), "context-bank-classes.i32": int32Bytes(contextBank.classes) } : {}),
  };
  const version = newVersionId(createdAt, files["coreset.f32"]);
  // With tiled classes the whole model is written aside first: the tiles are measured against it, and `out` gets the bundle only once it is whole.
  const tiling = config.tiling.classes.length > 0;
  const manifest = await writeBundle(
    tiling ? wholeBundleDir(options.out) : options.out,
    {
      format: "lafited-bundle",
      formatVersion: 1,
      version,
      createdAt: createdAt.toISOString(),
      config,
      backbone: { name: backboneSource.name, file: "backbone.onnx", inputSize: S, stages: backboneSource.stages, aspect: config.aspect, border: config.border },
      features: { c, h, w, mean: Array.from(stats.mean), std: Array.from(stats.std) },
      memory: {
        coresetSize: count,
        candidates,
        sampling: config.memory.sampling,
        perClassShare: share,
        classRows,
        indexType: config.memory.index,
        indexFile: "coreset.faiss",
        vectorsFile: "coreset.f32",
        projection: { seed: config.seed, dim: config.memory.projectionDim, ...(projection ? { file: "coreset-projection.f32" } : {}) },
        coverageRadius,
        rowClasses: { file: "coreset-classes.i32", names: classNames },
        classMeans,
        ...(contextBank ? { contextBank: { file: "context-bank.f32", classesFile: "context-bank-classes.i32", size: contextBank.size, channels: contextBank.channels, lambda, coverageRadius: contextBank.coverageRadius, fitSize: contextBank.size } } : {}),
      },
      ...(replay ? { replay: { file: "replay.f16", count: replay.count, dtype: "float16" as const, maxMB: config.diffusion.replayMB, ofMaps: bank.length } } : {}),
      scoring: {
        mode: config.scoring.mode,
        k: chosen.k,
        sigma: config.scoring.sigma,
        pool: config.scoring.pool,
        imageScore: chosen.imageScore,
        top: config.scoring.top,
        ...(unetOnnx ? { tau: chosen.tau, deltaT: chosen.deltaT, eta: config.scoring.eta, denoiserFile: "denoiser.onnx" } : {}),
        ...(detail ? { detail } : {}),
        ...(edges ? { edges } : {}),
        ...(sizes ? { sizes } : {}),
        ...(profiles ? { profiles } : {}),
        ...(context ? { context } : {}),
      },
      threshold: thresholds[config.scoring.mode]!,
      thresholds,
      metrics: { diffusion: diffusionInfo },
      ...(tuning ? { tuning } : {}),
      provenance: {
        dataset: resolve(options.data),
        classes: classCounts,
        trainListSha256: sha256(new TextEncoder().encode(images.map((i) => `${relative(options.data, i.path)} ${contentHashes.get(i.path) ?? "unreadable"}`).join("\n"))),
        skippedFiles: skipped,
        holdoutFiles: heldOut.map((i) => relative(options.data, i.path)),
        timings,
        tool: `lafited fit on ${hostname()}`,
      },
    },
    files,
    tiling || (options.force ?? false),
  );
  const seconds = () => (Object.values(timings).reduce((a, b) => a + b, 0) / 1000).toFixed(1);
  if (!tiling) {
    log(`fit: wrote bundle ${options.out} (version ${version}) in ${seconds()} s`);
    return manifest;
  }
  // 7. The tile bundles of the classes also scored in tiles (model/tiling.ts), measured against the bundle just written.
  log(`fit: wrote the whole model (version ${version}) in ${wholeBundleDir(options.out)}; now its tiled classes`);
  const frames = tiledFrames.map((f) => ({ name: f.name, bank: f.bank.filter((p) => !skipped.includes(p)), heldOut: f.heldOut.filter((p) => !skipped.includes(p)) }));
  const tiled = await fitTiles(frames, grids, tileSeconds, tileSizes.map((n) => tileScoringSeconds(tileConfig, tileDcfg, n)), options, wholeBundleDir(options.out), log, requested.tiling.classes === "auto");
  lap("tiling");
  const tileFiles: Record<string, Uint8Array> = {};
  for (const [cls, own] of Object.entries(tiled.bundleFiles)) Object.assign(tileFiles, tileFilesInParent(cls, own, tiled.tiling.classes[cls]!.manifest, files));
  const { files: _hashes, ...written } = manifest;
  const full = await writeBundle(options.out, { ...written, tiling: tiled.tiling, provenance: { ...written.provenance, timings } }, { ...files, ...tileFiles }, options.force ?? false);
  await rm(tileWorkDir(options.out), { recursive: true, force: true });
  const kept = Object.keys(tiled.tiling.classes);
  log(`fit: wrote bundle ${options.out} (version ${version}, ${kept.length > 0 ? `with tiles of ${kept.join(", ")}` : "no class's tiles kept"}) in ${seconds()} s`);
  return full;
}

function countBy(keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

/** The replay sample kept in the bundle (replay.ts): undefined when the cap holds no map. */
function replaySample(bank: readonly FeatureMap[], maxMB: number, seed: number): { bytes: Uint8Array; count: number } | undefined {
  const picks = pickReplay(bank.length, replayCapacity(bank[0]!.data.length, maxMB), seed);
  if (picks.length === 0) return undefined;
  return { bytes: encodeReplay(picks.map((i) => bank[i]!.data)), count: picks.length };
}

/** The config a fit runs with: its tiled classes named (tiling.classes auto resolved). */
type FitConfig = ModelConfig & { readonly tiling: ModelConfig["tiling"] & { readonly classes: readonly string[] } };

/**
 * tiling.classes auto (auto-tiling.ts) over the fit's classes, from every frame's size (headers only: 2,075 frames in
 * under a second): the chosen classes and their grids, as tileGrids would give them from the same frames.
 */
async function autoTiledClasses(t: ModelConfig["tiling"], images: readonly TrainImage[], counts: Record<string, { train: number; holdout: number }>, inputSize: number, log: (m: string) => void): Promise<Record<string, number>> {
  const candidates: AutoTilingCandidate[] = [];
  for (const [name, n] of Object.entries(counts)) {
    const own = images.filter((i) => i.cls === name).map((i) => i.path);
    candidates.push({ name, longSides: await longSides(own), bankFrames: n.train, heldOutFrames: n.holdout });
  }
  const verdicts = chooseAutoTiling(candidates, inputSize, t);
  // Quiet when no class's frames are large enough to be considered: the common case.
  if (verdicts.some((v) => v.reason !== "small frames")) log(describeAutoTiling(verdicts, t));
  return Object.fromEntries(verdicts.filter((v) => v.chosen).map((v) => [v.name, v.grid]));
}

/** An object without its undefined-valued keys (zod leaves absent optional keys out, but a hand-made config may not). */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The diffusion training config a fit uses: the preset with the model config's overrides. */
export function diffusionConfigOf(config: ModelConfig, ep: "cpu" | "cuda", intraOpThreads: number | undefined): DiffusionConfig {
  const d = config.diffusion;
  if (d.preset === "none") throw new LafiteError(ErrorCode.INVALID_CONFIG, "diffusion.preset is none: there is no diffusion model to train");
  return diffusionPreset(d.preset, {
    seed: config.seed,
    ...(d.epochs !== undefined ? { epochs: d.epochs } : {}),
    ...(d.samples !== undefined ? { maxSamples: d.samples } : {}),
    ...(d.batchSize !== undefined ? { batchSize: d.batchSize } : {}),
    ...(d.lr !== undefined ? { lr: d.lr } : {}),
    ...(d.maxDataMB !== undefined ? { maxDataMB: d.maxDataMB } : {}),
    ...(d.tMax !== undefined ? { tMax: d.tMax } : {}),
    ...(d.ema !== undefined ? { ema: d.ema } : {}),
    ...(d.minSnr !== undefined ? { minSnr: d.minSnr } : {}),
    ...(d.unet ? { unet: { ...UNET_PRESETS[d.preset], ...definedOnly(d.unet) } } : {}),
    executionProvider: d.executionProvider ?? ep,
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
  });
}

/** How much work each stage of this fit has (fit-eta.ts), from the counts known once the backbone's shape is. */
export function fitWork(config: ModelConfig, dcfg: DiffusionConfig | undefined, n: { images: number; holdout: number; bankImagesPerClass: number[]; leftOutImages: number; c: number; h: number; w: number; tune: boolean }): FitWork {
  const hw = n.h * n.w;
  const bankImages = n.images - n.holdout;
  const total = bankImages * hw;
  const { candidates, count } = coresetBudget(total, config.memory);
  const unetGmac = dcfg ? unetParamSpecs(dcfg.unet, { c: n.c, h: n.h, w: n.w }).macsPerSample / 1e9 : 0;
  const trainMaps = dcfg ? trainingSetSize(dcfg, bankImages, n.c * hw * Float32Array.BYTES_PER_ELEMENT) : 0;
  const pseudoImages = n.holdout + config.tuning.perClass * n.bankImagesPerClass.length;
  // Swapped parts for the context bank: at most tuning.swaps a class (textures and frames of many sizes get none).
  const swapImages = n.tune && config.tuning.contextWeights.some((v) => v > 0) ? config.tuning.swaps * n.bankImagesPerClass.length : 0;
  // Warped edges for the detail bank's weight per class.
  const warpImages = n.tune && config.tuning.detailPerClass ? config.tuning.warps * n.bankImagesPerClass.length : 0;
  const taus = dcfg ? trainedTaus(config.tuning.taus, config.diffusion.tMax).length : 0;
  return {
    images: n.images,
    coresetOps: classCoresetWork(count, candidatesPerClass(n.bankImagesPerClass.map((k) => k * hw), candidates, config.memory.sampling), config.memory.perClassShare) * Math.min(n.c, config.memory.projectionDim),
    diffusionGmac: dcfg ? totalSteps(dcfg, trainMaps) * dcfg.batchSize * unetGmac : 0,
    pseudoImages: pseudoImages + swapImages + warpImages,
    tuneScorings: n.tune ? (taus + new Set(config.tuning.ks).size + 1) * pseudoImages : 0,
    // Calibration scores every mode (the tuned one's scores reused); the detail bank adds its own search per image; left-out bank images, each bank mode.
    // The edge correction's pass: one scoring per image in the served mode; the size correction's, one per held-out normal.
    thresholdScorings: (dcfg ? 4 : 2) * pseudoImages + (config.tuning.detailWeights.some((v) => v > 0) ? pseudoImages : 0) + (dcfg ? 3 : 2) * n.leftOutImages + (n.tune && config.tuning.edgeCorrection ? pseudoImages : 0) + (n.tune && config.tuning.sizeCorrection ? n.holdout : 0) + (n.tune && config.tuning.positionProfile && config.threshold.perClass ? pseudoImages : 0),
    scoringGmac: (hw * count * n.c) / 1e9 + unetGmac,
  };
}
