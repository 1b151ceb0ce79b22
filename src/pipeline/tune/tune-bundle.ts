/**
 * `lafite tune`: re-tunes a fitted bundle on a pseudo-validation set built
 * from the training images the bundle held out of its memory bank (never
 * from images in the bank, which would score near zero and flatter every
 * setting). The bundle is rewritten atomically as a new version with the
 * chosen τ, Δt and K, a threshold per mode by the configured rule, and the
 * whole sweep in `manifest.tuning`.
 */
import { tuneSizeCorrection } from "./size-correction.js";
import { describeSizeChoice, type SizeTrends } from "../../model/scoring/size-trend.js";
import { describeProfileChoice, type PositionProfiles } from "../../model/scoring/position-profile.js";
import { profileTuneWork, tuneProfiles } from "./position-profile.js";
import { tuneEdgeCorrection, describeEdgeChoice } from "./edge-correction.js";
import type { EdgeProfiles } from "../../model/scoring/edge-profile.js";
import type * as ort from "onnxruntime-node";
import { filesOf, readBundle, bytesToFloat32, rowPartsOf, newVersionId, writeBundle, type BundleManifest, type LoadedBundle, type TuningRecord } from "../../model/bundle.js";
import type { ScorerParts } from "../open-scorer.js";
import { BackboneRunner, sessionOptions } from "../../model/backbone-runner.js";
import { resolveExecutionProvider } from "../../model/execution-provider.js";
import { parseModelConfig, pseudoRecipe, type ModelConfig, type TauSweepMode } from "../../model/model-config.js";
import { holdoutClasses, pseudoSamples, swapSamples, warpSamples, type PseudoSample } from "../../image/pseudo/index.js";
import { DIFFUSION_MODES, SCORING_MODES } from "../../model/types.js";
import { Progress, type ProgressSink } from "../../util/progress.js";
import { extractPseudoFeatures, standardizedFeatures, type PseudoFeature } from "./pseudo-features.js";
import { runTuning } from "./run-tuning.js";
import { withScoreMemo } from "../score-memo.js";
import { trainedTaus } from "./trained-taus.js";
import { calibrateModes, type ScoredSet } from "./calibrate.js";
import { classesShortOfNormals, describeLeftOut, leftOutFiles, type LeftOutMap } from "./left-out.js";
import { bankImagesOf, holdoutFileParts } from "../../image/pseudo/holdout.js";
import { readImageFile } from "../../image/read-image-file.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { ThresholdParams } from "../../model/scoring/threshold.js";
import { relative } from "node:path";
import { scanDataset } from "../../dataset/mvtec-layout.js";
import { classMeansOf, frameMean, lightChanges, lightRangeText, misreadings, reachChanges, withAlike, withReach, type ClassMeans } from "../../model/memory/class-means.js";
import { UNTAGGED } from "../../model/memory/row-classes.js";
import { detailTuneWork, tuneDetailWeight } from "./detail-weight.js";
import { builtinStageChannels, detailStagesOf } from "../../model/backbone-source.js";
import { DETAIL_MODES } from "../../model/scoring/detail-bank.js";
import { frameFitOf } from "../../image/geometry.js";
import { withWholeUnitsRemeasured } from "../tiling/frame-units.js";

export interface TuneBundleOptions {
  readonly bundle: string;
  /** The training data set the bundle was fitted on (its held-out files are read from here). */
  readonly data: string;
  readonly seed?: number;
  readonly perClass?: number;
  /** Share of the synthesized anomalies blended in seamlessly, over the config's tuning.seamless. */
  readonly seamless?: number;
  /** Share of them that are logical (a part removed or added), over the config's tuning.logical. */
  readonly logical?: number;
  /** Share of the others shaded in place (the target re-lit under a mask), over the config's tuning.shade. */
  readonly shade?: number;
  /** Share of those left warped in place (the target's pixels moved near an edge), over the config's tuning.warp. */
  readonly warp?: number;
  /** Warped edges per class for the detail bank's weight per class, over the config's tuning.warps (0: none). */
  readonly warps?: number;
  /** The mode of the τ sweep, over the bundle config's tuning.tauMode. */
  readonly tauMode?: TauSweepMode;
  readonly signal?: AbortSignal;
  readonly progressSink?: ProgressSink;
  readonly log?: (msg: string) => void;
  readonly executionProvider?: "cpu" | "cuda";
  readonly intraOpThreads?: number;
}

/** The pseudo-validation set of a fitted bundle: its held-out training images (under `data`) and anomalies synthesized from them, as standardized features. */
export async function pseudoSetOfBundle(
  loaded: LoadedBundle,
  data: string,
  tc: ModelConfig["tuning"],
  sessOpts: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; progressSink?: ProgressSink } = {},
): Promise<PseudoFeature[]> {
  const classes = holdoutClasses(loaded.manifest.provenance.holdoutFiles, data);
  const progress = new Progress("pseudo-validation set", classes.reduce((n, c) => n + c.images.length + tc.perClass, 0), { unit: "images", ...(options.progressSink ? { sink: options.progressSink } : {}) });
  const signal = options.signal;
  return featuresOfSamples(loaded, pseudoSamples(classes, { ...pseudoRecipe(tc), ...(signal ? { signal } : {}) }), sessOpts, { ...(signal ? { signal } : {}), progress });
}

/** The swapped parts (image/pseudo/swap.ts) of a fitted bundle's held-out images of `classes`, as standardized features: what the context bank's weights are chosen on. */
export async function swapSetOfBundle(loaded: LoadedBundle, data: string, tc: ModelConfig["tuning"], classes: readonly string[], sessOpts: ort.InferenceSession.SessionOptions, options: { signal?: AbortSignal } = {}): Promise<PseudoFeature[]> {
  const held = holdoutClasses(loaded.manifest.provenance.holdoutFiles, data).filter((c) => classes.includes(c.name));
  return featuresOfSamples(loaded, swapSamples(held, { seed: tc.seed, perClass: tc.swaps, ...(options.signal ? { signal: options.signal } : {}) }), sessOpts, options);
}

/** The warped edges (image/pseudo/warp.ts) of a fitted bundle's held-out images, as standardized features: what the detail bank's weight per class is also chosen on. */
export async function warpSetOfBundle(loaded: LoadedBundle, data: string, tc: ModelConfig["tuning"], sessOpts: ort.InferenceSession.SessionOptions, options: { signal?: AbortSignal } = {}): Promise<PseudoFeature[]> {
  const held = holdoutClasses(loaded.manifest.provenance.holdoutFiles, data);
  return featuresOfSamples(loaded, warpSamples(held, { seed: tc.seed, perClass: tc.warps, ...(options.signal ? { signal: options.signal } : {}) }), sessOpts, options);
}

async function featuresOfSamples(loaded: LoadedBundle, samples: AsyncIterable<PseudoSample>, sessOpts: ort.InferenceSession.SessionOptions, options: { signal?: AbortSignal; progress?: Progress }): Promise<PseudoFeature[]> {
  const m = loaded.manifest;
  const backbone = await BackboneRunner.open(loaded.file(m.backbone.file), m.backbone.inputSize, sessOpts, frameFitOf(m.backbone));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  try {
    return await extractPseudoFeatures(samples, backbone, stats, options);
  } finally {
    await backbone.release();
  }
}

/**
 * The bank images (under `data`) of the bundle's classes short of held-out
 * normals, as standardized features, for their thresholds (left-out.ts).
 * Unreadable files are skipped and said so.
 */
export async function leftOutMapsOfBundle(
  loaded: LoadedBundle,
  data: string,
  params: ThresholdParams,
  sessOpts: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; log?: (msg: string) => void } = {},
): Promise<LeftOutMap[]> {
  const m = loaded.manifest;
  const held = m.provenance.holdoutFiles ?? [];
  const files = await leftOutFiles(data, held, classesShortOfNormals(params, held.map((f) => holdoutFileParts(f)[0]!), Object.keys(m.provenance.classes)));
  if (files.length === 0) return [];
  const backbone = await BackboneRunner.open(loaded.file(m.backbone.file), m.backbone.inputSize, sessOpts, frameFitOf(m.backbone));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  const out: LeftOutMap[] = [];
  try {
    for (const f of files) {
      throwIfCancelled(options.signal, "threshold calibration");
      try {
        out.push({ cls: f.cls, x: await standardizedFeatures(backbone, (await readImageFile(f.path)).image, stats) });
      } catch (err) {
        options.log?.(`skipping ${f.path} for the left-out calibration: ${(err as Error).message}`);
      }
    }
  } finally {
    await backbone.release();
  }
  return out;
}

/**
 * Class means (memory/class-means.ts) for a bundle fitted before them, from its bank images under `data`: each
 * fitted class's train/good and validation/good files less the ones it held out, as fit took them. Undefined, and
 * said why, when those files are not the fit's (another count than the manifest's) or a refresh added rows of
 * classes the data set has no images of: the bank rows' votes then keep reading frames.
 */
export async function classMeansOfBundle(
  loaded: LoadedBundle,
  data: string,
  sessOpts: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; log?: (msg: string) => void; progressSink?: ProgressSink } = {},
): Promise<ClassMeans | undefined> {
  const frames = await bankFramesOfBundle(loaded, data, sessOpts, { ...options, what: "class means", otherwise: "the bank rows' votes keep reading frames" });
  return frames ? meansOfBankFrames(loaded, frames, options.log ?? (() => {})) : undefined;
}

/** The class means of a bundle's bank frames (bankFramesOfBundle), said in the log. */
function meansOfBankFrames(loaded: LoadedBundle, frames: readonly BankFrame[], log: (msg: string) => void): ClassMeans {
  log(`tune: class means of ${Object.keys(loaded.manifest.provenance.classes).length} classes from ${frames.length} bank images: frames are read by them from now on`);
  return classMeansOf(
    frames.map((f) => f.mean),
    frames.map((f) => f.cls),
  );
}

/** A bank image as tune measures it again: its class, its frame mean and its light (FeatureMap.light). */
export interface BankFrame {
  readonly cls: string;
  readonly mean: Float32Array;
  readonly light?: readonly number[] | undefined;
}

/**
 * The bank images of a bundle under `data` (each fitted class's train/good and validation/good files less the ones it
 * held out, as fit took them), each run through the bundle's backbone: for class means, reaches and light ranges a
 * bundle fitted before them lacks. Undefined, and said why (`tune: no ${what}: …; ${otherwise}`), when those files
 * are not the fit's (another count than the manifest's) or a refresh added rows of classes the data set has no images of.
 */
export async function bankFramesOfBundle(
  loaded: LoadedBundle,
  data: string,
  sessOpts: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; log?: (msg: string) => void; progressSink?: ProgressSink; what: string; otherwise: string },
): Promise<BankFrame[] | undefined> {
  const m = loaded.manifest;
  const log = options.log ?? (() => {});
  const none = (why: string) => log(`tune: no ${options.what}: ${why}; ${options.otherwise}`);
  const fitted = Object.keys(m.provenance.classes);
  const added = (m.memory.rowClasses?.names ?? []).filter((name) => name !== UNTAGGED && !fitted.includes(name));
  if (added.length > 0) {
    none(`the bank holds rows of ${added.join(", ")}, which a refresh added and ${data} has no images of`);
    return undefined;
  }
  const held = new Set(m.provenance.holdoutFiles ?? []);
  const skipped = new Set(m.provenance.skippedFiles);
  const bank: { cls: string; path: string }[] = [];
  for (const cls of (await scanDataset(data)).filter((c) => fitted.includes(c.name))) {
    const files = bankImagesOf(m.provenance.holdoutFiles ?? [], cls.name, [...cls.train, ...cls.validation]).filter((path) => !held.has(relative(data, path)));
    if (files.length !== m.provenance.classes[cls.name]!.train) {
      none(`${data} holds ${files.length} bank images of ${cls.name}, the fit took ${m.provenance.classes[cls.name]!.train}`);
      return undefined;
    }
    bank.push(...files.filter((path) => !skipped.has(path)).map((path) => ({ cls: cls.name, path })));
  }
  const missing = fitted.filter((name) => !bank.some((b) => b.cls === name));
  if (missing.length > 0) {
    none(`${data} has no bank images of ${missing.join(", ")}`);
    return undefined;
  }
  const backbone = await BackboneRunner.open(loaded.file(m.backbone.file), m.backbone.inputSize, sessOpts, frameFitOf(m.backbone));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  const progress = new Progress(`tune: ${options.what}`, bank.length, { unit: "images", ...(options.progressSink ? { sink: options.progressSink } : {}) });
  const frames: BankFrame[] = [];
  try {
    for (const b of bank) {
      throwIfCancelled(options.signal, options.what);
      try {
        const x = await standardizedFeatures(backbone, (await readImageFile(b.path)).image, stats);
        frames.push({ cls: b.cls, mean: frameMean(x), light: x.light });
      } catch (err) {
        log(`tune: skipping ${b.path} for the ${options.what}: ${(err as Error).message}`);
      }
      progress.tick(1);
    }
  } finally {
    await backbone.release();
  }
  return frames;
}

/** What openScorer needs from a loaded bundle. */
export function scorerPartsOf(loaded: LoadedBundle): ScorerParts {
  const m = loaded.manifest;
  return {
    coreset: bytesToFloat32(loaded.file(m.memory.vectorsFile)),
    coresetSize: m.memory.coresetSize,
    c: m.features.c,
    ...(m.scoring.denoiserFile ? { unetOnnx: loaded.file(m.scoring.denoiserFile) } : {}),
    ...rowPartsOf(loaded),
  };
}

export async function tuneBundle(options: TuneBundleOptions): Promise<BundleManifest> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const started = performance.now();
  const loaded = await readBundle(options.bundle);
  const m = loaded.manifest;
  // Bundles fitted before tuning existed have no tuning block: the schema fills in its defaults.
  const config = parseModelConfig(m.config, `bundle ${options.bundle} config`);
  const tc = { ...config.tuning, ...(options.seed !== undefined ? { seed: options.seed } : {}), ...(options.perClass !== undefined ? { perClass: options.perClass } : {}), ...(options.seamless !== undefined ? { seamless: options.seamless } : {}), ...(options.logical !== undefined ? { logical: options.logical } : {}), ...(options.shade !== undefined ? { shade: options.shade } : {}), ...(options.warp !== undefined ? { warp: options.warp } : {}), ...(options.warps !== undefined ? { warps: options.warps } : {}), ...(options.tauMode !== undefined ? { tauMode: options.tauMode } : {}) };
  const ep = await resolveExecutionProvider(options.executionProvider ?? "cpu", log);
  const sessOpts = sessionOptions(ep, options.intraOpThreads);
  const signal = options.signal;
  const set = await pseudoSetOfBundle(loaded, options.data, tc, sessOpts, { ...(signal ? { signal } : {}), ...(options.progressSink ? { progressSink: options.progressSink } : {}) });
  log(`tune: pseudo-validation set of ${set.filter((f) => f.anomalous).length} synthesized anomalies and ${set.filter((f) => !f.anomalous).length} held-out normals (seed ${tc.seed})`);

  const sc = m.scoring;
  // A bundle fitted before class means gets them, so its frames are read as a fit reads them now (every choice below depends on the reading).
  const stored = scorerPartsOf(loaded);
  const bankOptions = { ...(signal ? { signal } : {}), log, ...(options.progressSink ? { progressSink: options.progressSink } : {}) };
  // A bundle fitted before class means gets them from its bank images; one fitted before reaches or light ranges gets
  // them as fit measures them, over its bank images (each in its class's mean) too, not its held-out normals alone,
  // which span less.
  const ungated = stored.classMeans && Object.values(stored.classMeans.classes).some((c) => c.reach === undefined || !c.light);
  const bankFrames = !stored.classMeans && stored.rowClasses
    ? await bankFramesOfBundle(loaded, options.data, sessOpts, { ...bankOptions, what: "class means", otherwise: "the bank rows' votes keep reading frames" })
    : ungated
      ? await bankFramesOfBundle(loaded, options.data, sessOpts, { ...bankOptions, what: "bank images for the look gate", otherwise: "reaches and light ranges come from the held-out normals alone" })
      : undefined;
  const bankMeans = stored.classMeans || !bankFrames ? undefined : meansOfBankFrames(loaded, bankFrames, log);
  // With the look-alike classes measured again on the held-out normals, as fit measures them.
  const normals = set.filter((f) => !f.anomalous);
  const means = stored.classMeans ?? bankMeans;
  const normalClasses = normals.map((f) => f.cls);
  // And each class's reach (the look gate) at least as far as its held-out normals: a bundle fitted before reaches gets one.
  const classMeans = means ? withReach(withAlike(means, misreadings(means, normals.map((f) => f.x), normalClasses), normalClasses), [...normals.map((f) => ({ cls: f.cls, mean: frameMean(f.x), inMean: false, light: f.x.light })), ...(bankFrames ?? []).map((f) => ({ ...f, inMean: true }))]) : undefined;
  if (means && classMeans) {
    // What a re-tune gave the look gate: a bundle fitted before reaches or light ranges gets them here.
    const reaches = reachChanges(means, classMeans);
    const lights = lightChanges(means, classMeans);
    // The ranges themselves, not lightChanges' rounded copies: rounding twice would print 139.49 as 140, where fit's log says 139.
    const lightOf = (m: ClassMeans, cls: string) => {
      const light = m.classes[cls]?.light;
      return light ? lightRangeText(light) : "none";
    };
    const said = [
      ...Object.entries(reaches).map(([cls, r]) => `${cls} reach ${r.before ?? "none"} → ${r.after}`),
      ...Object.keys(lights).map((cls) => `${cls} light ${lightOf(means, cls)} → ${lightOf(classMeans, cls)}`),
    ];
    if (said.length > 0) log(`tune: the look gate, measured on ${bankFrames ? "the bank images and " : ""}the held-out normals: ${said.join(", ")}`);
  }
  // Every pass below scores the same pseudo-validation maps: the memo keeps each map's bank search (at the largest K swept) and each setting's main pass.
  return withScoreMemo({ ...stored, ...(classMeans ? { classMeans } : {}) }, Math.max(config.memory.k, ...tc.ks), sessOpts, async (parts) => {
    // The configured defaults are the fallback, not whatever an earlier tuning chose.
    const base = { mapSize: m.backbone.inputSize, sigma: sc.sigma, pool: sc.pool, imageScore: config.scoring.imageScore, top: sc.top ?? config.scoring.top, k: config.memory.k, tau: config.scoring.tau, deltaT: config.scoring.deltaT, eta: sc.eta ?? config.scoring.eta };
    const tuned = await runTuning({
      set,
      parts,
      base,
      tuning: { ...tc, taus: trainedTaus(tc.taus, config.diffusion.tMax) },
      sessionOptions: sessOpts,
      ...(signal ? { signal } : {}),
      ...(options.progressSink ? { progressSink: options.progressSink } : {}),
      log,
    });
    // Every mode this bundle can serve gets a threshold (older bundles lacked edit-only).
    const modes = SCORING_MODES.filter((mode) => parts.unetOnnx !== undefined || !DIFFUSION_MODES.includes(mode));
    const settings = { ...base, ...tuned.chosen };
    // The detail bank is re-weighed at the new τ, K and rule; its normalizers are those of the new settings.
    // A bundle fitted before the detail bank gets one from its config, as fit would make it now.
    const widths = sc.detail ? undefined : builtinStageChannels(config);
    const plan = sc.detail ?? detailStagesOf(config, { stages: m.backbone.stages, ...(widths ? { stageChannels: widths } : {}) });
    let detail = sc.detail;
    let detailRecord: TuningRecord["detail"];
    // The context bank's weights are chosen again on swapped parts of its classes (its rows stay fit's: the bank holds only those classes).
    let context = sc.context;
    let contextRecord: TuningRecord["context"];
    let scored: readonly ScoredSet[] = [tuned.chosenScores];
    if (plan && DETAIL_MODES.includes(sc.mode)) {
      const cb = m.memory.contextBank;
      const contextClasses = parts.contextBank && parts.rowClasses ? [...new Set(parts.contextBank.classes)].map((k) => parts.rowClasses!.names[k]!) : [];
      const swaps = cb && contextClasses.length > 0 ? await swapSetOfBundle(loaded, options.data, tc, contextClasses, sessOpts, signal ? { signal } : {}) : [];
      const contextInput = cb && contextClasses.length > 0 ? { context: { lambda: cb.lambda, weights: tc.contextWeights, margin: tc.contextMargin, tolerance: tc.contextTolerance, minSwaps: tc.minSwaps, swaps } } : {};
      const warps = tc.detailPerClass && tc.warps > 0 ? await warpSetOfBundle(loaded, options.data, tc, sessOpts, signal ? { signal } : {}) : [];
      const progress = new Progress(cb ? "tune: detail and context banks" : "tune: detail bank", detailTuneWork(set.length, modes, cb ? swaps.length : -1, warps.length), { unit: "scorings", ...(options.progressSink ? { sink: options.progressSink } : {}) });
      const r = await tuneDetailWeight({ set, parts, settings, modes, servedMode: sc.mode, stages: plan.stages, channels: plan.channels, weights: tc.detailWeights, perClass: tc.detailPerClass, ...contextInput, ...(warps.length > 0 ? { warps: { samples: warps, min: tc.minWarps } } : {}), sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress, log });
      detail = r.detail;
      detailRecord = r.record;
      context = r.context;
      contextRecord = r.contextRecord;
      scored = [...r.scored, ...scored.filter((k) => !DETAIL_MODES.includes(k.mode))];
    } else {
      log("tune: no detail bank (scoring.detail.stages is [], the backbone's stage widths are unknown, or the bundle serves no-edit)");
    }
    // The size correction measured again at the new settings (tuning.sizeCorrection false: none); the served mode is then calibrated again with it.
    let sizes: SizeTrends | undefined;
    let sizesRecord: TuningRecord["sizes"];
    if (tc.sizeCorrection) {
      const progress = new Progress("tune: size correction", set.filter((f) => !f.anomalous).length, { unit: "scorings", ...(options.progressSink ? { sink: options.progressSink } : {}) });
      const r = await tuneSizeCorrection({ set, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}) }, mode: sc.mode, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      sizes = r.sizes;
      sizesRecord = r.record;
      if (sizes) scored = scored.filter((k) => k.mode !== sizes!.mode);
      log(`tune: ${describeSizeChoice(r.record)}`);
    }
    // The position profiles measured again at the new settings (tuning.positionProfile false: none); the served mode is then calibrated again with them.
    let profiles: PositionProfiles | undefined;
    let profilesRecord: TuningRecord["profiles"];
    // Only with per-class thresholds: a profiled class's scores are in its own units, and need a threshold of their own.
    if (tc.positionProfile && config.threshold.perClass) {
      const progress = new Progress("tune: position profile", profileTuneWork(set, config.threshold.minClassNormals), { unit: "scorings", ...(options.progressSink ? { sink: options.progressSink } : {}) });
      const r = await tuneProfiles({ set, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}) }, mode: sc.mode, minClassNormals: config.threshold.minClassNormals, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      profiles = r.profiles;
      profilesRecord = r.record;
      if (profiles) scored = scored.filter((k) => k.mode !== profiles!.mode);
      log(`tune: ${describeProfileChoice(r.record)}`);
    }
    // The edge correction chosen again at the new settings (tuning.edgeCorrection false: none).
    let edges: EdgeProfiles | undefined;
    let edgesRecord: TuningRecord["edges"];
    if (tc.edgeCorrection) {
      const progress = new Progress("tune: edge correction", set.length, { unit: "scorings", ...(options.progressSink ? { sink: options.progressSink } : {}) });
      const r = await tuneEdgeCorrection({ set, parts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}) }, mode: sc.mode, margin: tc.edgeMargin, sessionOptions: sessOpts, ...(signal ? { signal } : {}), progress });
      edges = r.edges;
      edgesRecord = r.record;
      log(`tune: ${describeEdgeChoice(r.record)}`);
    }
    const leftOut = await leftOutMapsOfBundle(loaded, options.data, config.threshold, sessOpts, { ...(signal ? { signal } : {}), log });
    if (leftOut.length > 0) log(`tune: ${describeLeftOut(leftOut)}`);
    const thresholds = await calibrateModes(set, parts, { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) }, modes, config.threshold, sessOpts, { ...(signal ? { signal } : {}), log, scored, leftOut });

    const files = filesOf(loaded);
    const createdAt = new Date();
    const { files: _hashes, ...rest } = m;
    const { edges: _measuredBefore, sizes: _fittedBefore, profiles: _profiledBefore, ...kept } = sc;
    const next: Omit<BundleManifest, "files"> = {
      ...rest,
      version: newVersionId(createdAt, new TextEncoder().encode(`${m.version} ${JSON.stringify(tuned.chosen)} ${JSON.stringify(thresholds)}`)),
      createdAt: createdAt.toISOString(),
      ...(classMeans ? { memory: { ...m.memory, classMeans } } : {}),
      scoring: { ...kept, ...(edges ? { edges } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}), k: tuned.chosen.k, imageScore: tuned.chosen.imageScore, top: base.top, ...(sc.denoiserFile ? { tau: tuned.chosen.tau, deltaT: tuned.chosen.deltaT } : {}), ...(detail ? { detail } : {}), ...(context ? { context } : {}) },
      threshold: thresholds[sc.mode] ?? m.threshold,
      thresholds,
      tuning: { ...tuned.record, ...(detailRecord ? { detail: detailRecord } : {}), ...(contextRecord ? { context: contextRecord } : {}), ...(edgesRecord ? { edges: edgesRecord } : {}), ...(sizesRecord ? { sizes: sizesRecord } : {}), ...(profilesRecord ? { profiles: profilesRecord } : {}) },
      provenance: { ...m.provenance, timings: { ...m.provenance.timings, tune: Math.round(performance.now() - started) } },
    };
    // A tiled class's tile map is brought to the whole map's units, which re-tuning moves: they are measured again.
    const tiling = m.tiling
      ? await withWholeUnitsRemeasured({ dir: options.bundle, manifest: { ...next, files: m.files }, file: (name) => loaded.file(name) }, m.tiling, { dataset: options.data, holdoutFiles: m.provenance.holdoutFiles ?? [] }, options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}, { info: (msg) => log(`tune: ${msg}`), warn: (msg) => log(`tune: ${msg}`) })
      : undefined;
    const written = await writeBundle(options.bundle, tiling ? { ...next, tiling } : next, files, true);
    log(`tune: wrote ${options.bundle} (version ${written.version}, was ${m.version}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return written;
  });
}
