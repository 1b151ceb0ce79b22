/**
 * `lafite train`: continues training a bundle's U-Net (issue 12 part 2) from
 * the weights in its denoiser.onnx, on standardized training features (every
 * training map fit used, from `data` or else the bundle's recorded data set,
 * jobs/training-features.ts; the bundle's capped replay sample with
 * `replay`), for a budget of minutes, epochs and/or steps (the first
 * reached ends it). The retrain job's code path (jobs/fine-tune-unet.ts) sets
 * the weights, data and schedule up; checkpoints sit beside the output as
 * `.<out>.diffusion-checkpoint` (like fit's), holding the time trained so far,
 * so re-running the same command after an interrupt resumes the same run and
 * the same budget. The result is a new bundle version: `parentVersion`, the
 * budget, steps and final loss in `metrics.train`, the t range and EMA in the
 * config, thresholds re-calibrated by the bundle's configured rule (over
 * fit's held-out normals, jobs/calibrate.ts; with `data`, over the bundle's
 * pseudo-validation set as fit does, which every rule accepts), and
 * optionally pseudo-validation re-tuning (tuneBundle) of the output.
 */
import { withScoreMemo } from "../pipeline/score-memo.js";
import { remeasureEdges } from "../pipeline/tune/edge-correction.js";
import type { EdgeProfiles } from "../model/scoring/edge-profile.js";
import { remeasureSizes } from "../pipeline/tune/size-correction.js";
import type { SizeTrends } from "../model/scoring/size-trend.js";
import type { PositionProfiles } from "../model/scoring/position-profile.js";
import { remeasureProfiles } from "../pipeline/tune/position-profile.js";
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { checkpointDirBeside } from "../model/diffusion/checkpoint.js";
import type { BundleManifest, ThresholdInfo } from "../model/bundle.js";
import { rowPartsOf, sha256 } from "../model/bundle.js";
import { withWholeUnitsRemeasured } from "../pipeline/tiling/frame-units.js";
import { trainDiffusion, type ExecutionProviderName } from "../model/diffusion/index.js";
import { parseModelConfig } from "../model/model-config.js";
import { SCORING_MODES, type ScoringMode } from "../model/types.js";
import { scorerSettingsOf, type ScorerParts } from "../pipeline/open-scorer.js";
import { calibrateModes } from "../pipeline/tune/calibrate.js";
import { remeasureDetail } from "../pipeline/tune/detail-weight.js";
import type { DetailScoring } from "../model/scoring/detail-bank.js";
import type { ContextScoring } from "../model/scoring/context-bank.js";
import { leftOutMapsOfBundle, pseudoSetOfBundle, tuneBundle } from "../pipeline/tune/tune-bundle.js";
import { describeLeftOut } from "../pipeline/tune/left-out.js";
import { ErrorCode, invalidInput, LafiteError } from "../util/errors.js";
import { throwIfCancelled, type ProgressSink } from "../util/progress.js";
import { openActiveModel } from "./jobs/active-model.js";
import { baseHoldoutMaps, calibrateThresholds, modesOf } from "./jobs/calibrate.js";
import { bundleVersion, withoutFiles, writeCandidate } from "./jobs/candidate.js";
import { bundlePreset, fineTuneConfig, fineTuneSource } from "./jobs/fine-tune-unet.js";
import { trainingFeaturesOf, type TrainingFeatures } from "./jobs/training-features.js";

/**
 * Long training's own defaults when neither the flags nor the bundle config
 * set them: train the steps inference uses (t ≤ 200, the tuning grid's
 * useful range) and export a weight EMA. Measured on the realistic suite
 * (bench:budget --from, 8,000 samples continued from a default fit): the
 * diffusion model alone rose from 60.9 to 68.2 image AUROC at τ = 50, and
 * lafite mode did not lose anywhere.
 */
export const LONG_TRAINING_T_MAX = 200;
export const LONG_TRAINING_EMA = 0.999;

export interface TrainBundleOptions {
  readonly bundle: string;
  /** Output bundle; default: replace `bundle` atomically. */
  readonly out?: string;
  readonly minutes?: number;
  readonly epochs?: number;
  readonly steps?: number;
  readonly lr?: number;
  readonly tMax?: number;
  readonly ema?: number;
  readonly minSnr?: number;
  /** The training data set: train on its training maps, and calibrate on the pseudo-validation set of its held-out images; needed by --tune. */
  readonly data?: string;
  /** Train on the bundle's replay sample even when the data set is readable. */
  readonly replay?: boolean;
  readonly tune?: boolean;
  readonly executionProvider?: ExecutionProviderName;
  readonly intraOpThreads?: number;
  readonly signal?: AbortSignal;
  readonly log?: (msg: string) => void;
  readonly progressSink?: ProgressSink;
}

/** The options' own contradictions, refused before anything is read or written. */
export function checkTrainOptions(options: TrainBundleOptions): void {
  if (options.minutes === undefined && options.epochs === undefined && options.steps === undefined) throw invalidInput("train needs a budget: --minutes M, --epochs E and/or --steps N");
  if (options.tune && options.data === undefined) throw invalidInput("--tune needs --data DIR (the data set the bundle was fitted on)");
}

export async function trainBundle(options: TrainBundleOptions): Promise<BundleManifest> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  checkTrainOptions(options);
  const started = performance.now();
  const out = options.out ?? options.bundle;
  const model = await openActiveModel(options.bundle, options.intraOpThreads);
  let written: BundleManifest;
  try {
    const m = model.manifest;
    const { c, h, w } = m.features;
    // Train on all of fit's training maps when its data set is at hand (--data, else the bundle's
    // provenance.dataset), not on the capped replay sample: that is a few dozen maps, which hours overfit.
    const fromData = options.replay ? undefined : options.data ?? m.provenance.dataset;
    const recordedGone = (err: unknown): never => {
      if (options.data !== undefined || (err as LafiteError).code === ErrorCode.CANCELLED) throw err;
      throw new LafiteError(ErrorCode.BAD_DATASET, `fit's data set ${m.provenance.dataset}, which the bundle records, is not usable (${(err as Error).message}); pass --data DIR where it is now (training and threshold calibration read it)`, { cause: err });
    };
    // Without --data the thresholds come from fit's held-out files: read them first, so a data set
    // that has gone fails now and not after hours of training.
    const basis = options.data === undefined ? await baseHoldoutMaps(model, options.signal) : undefined;
    if (basis && basis.maps.length === 0) recordedGone(invalidInput(`none of its ${basis.listed} held-out files could be read`));
    const full: TrainingFeatures | undefined = fromData === undefined ? undefined : await trainingFeaturesOf(model, fromData, { ...(options.signal ? { signal: options.signal } : {}), ...(options.progressSink ? { progressSink: options.progressSink } : {}) }).catch(recordedGone);
    const { unet, replay: stored } = fineTuneSource(model, options.bundle, full === undefined);
    if (full) {
      log(`train: ${full.maps.length} training maps from ${fromData} (${full.listed} ${full.tiles ? `${full.tiles}×${full.tiles} tiles of the train/good images` : "train/good images"} of the bundle's classes, ${full.heldOut} held out for pseudo-validation${full.capped > 0 ? `, ${full.capped} over the diffusion.maxDataMB cap` : ""}${full.skipped.length > 0 ? `, ${full.skipped.length} unreadable` : ""})`);
      for (const s of full.skipped.slice(0, 5)) log(`train: skipped ${s.path}: ${s.reason}`);
    }
    const replay = full?.maps ?? stored;
    const source = full ? "data" : "replay";
    const batch = bundlePreset(m).batchSize;
    const byEpochs = options.epochs !== undefined ? options.epochs * Math.ceil(replay.length / batch) : Number.MAX_SAFE_INTEGER;
    const steps = Math.min(options.steps ?? Number.MAX_SAFE_INTEGER, byEpochs);
    const cfg = fineTuneConfig(m, unet, {
      steps,
      ...(options.lr !== undefined ? { lr: options.lr } : {}),
      tMax: options.tMax ?? m.config.diffusion.tMax ?? LONG_TRAINING_T_MAX,
      ema: options.ema ?? m.config.diffusion.ema ?? LONG_TRAINING_EMA,
      ...(options.minSnr !== undefined ? { minSnr: options.minSnr } : {}),
      executionProvider: options.executionProvider ?? m.config.diffusion.executionProvider ?? "cpu",
      ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    });
    // Beside the output, as fit's: an interrupted run resumes from it.
    const checkpointDir = checkpointDirBeside(out);
    log(`train: ${options.bundle} (version ${m.version}) on ${replay.length} ${full ? "training" : "replay"} maps; budget ${[
      options.minutes !== undefined ? `${options.minutes} min` : "",
      options.epochs !== undefined ? `${options.epochs} epochs` : "",
      options.steps !== undefined ? `${options.steps} steps` : "",
    ].filter(Boolean).join(", ")}; lr ${cfg.lr}, t in [1, ${cfg.tMax ?? cfg.T}], weight EMA ${cfg.ema ?? "off"}, min-SNR γ ${cfg.minSnr ?? "off"}; checkpoints in ${checkpointDir}`);
    const trained = await trainDiffusion(replay, { c, h, w }, cfg, {
      ...(options.signal ? { signal: options.signal } : {}),
      initialWeights: unet.weights,
      checkpointDir,
      ...(options.minutes !== undefined ? { timeBudgetSeconds: options.minutes * 60 } : {}),
      log,
    });
    throwIfCancelled(options.signal, "train");

    // Thresholds by the configured rule, for every mode the parent served.
    const parts: ScorerParts = { coreset: model.coreset, coresetSize: m.memory.coresetSize, c, unetOnnx: trained.unetOnnx, ...rowPartsOf(model.bundle) };
    const signal = options.signal;
    let thresholds: Partial<Record<ScoringMode, ThresholdInfo>>;
    // The detail bank's normalizers, measured again with the new U-Net (when it is in use).
    let detail: DetailScoring | undefined;
    let context: ContextScoring | undefined;
    let edges: EdgeProfiles | undefined;
    let sizes: SizeTrends | undefined;
    let profiles: PositionProfiles | undefined;
    if (options.data !== undefined) {
      const config = parseModelConfig(m.config, `bundle ${options.bundle} config`);
      const set = await pseudoSetOfBundle(model.bundle, options.data, config.tuning, model.sessionOptions, { ...(signal ? { signal } : {}), ...(options.progressSink ? { progressSink: options.progressSink } : {}) });
      const sc = m.scoring;
      let settings = scorerSettingsOf(m, { tau: config.scoring.tau, deltaT: config.scoring.deltaT, eta: config.scoring.eta });
      const modes = (Object.keys(m.thresholds ?? { [sc.mode]: true }) as ScoringMode[]).filter((mode) => SCORING_MODES.includes(mode));
      // The position profiles are measured again below, on the maps of the new U-Net; until then scores are taken without them.
      const pr = sc.profiles && modes.includes(sc.profiles.mode) ? sc.profiles : undefined;
      if (pr) {
        const { profiles: _measuredAgain, ...unprofiled } = settings;
        settings = unprofiled;
      }
      // The pseudo-validation maps are scored in every mode, the edge correction's at the served setting again: the memo keeps each map's bank search and each setting's main pass.
      const data = options.data;
      thresholds = await withScoreMemo(parts, Math.max(1, settings.k), model.sessionOptions, async (memoParts) => {
        // The size correction's trends on the set's normals first, as the new U-Net serves them: every score below is taken with them.
        const normals = set.filter((f) => !f.anomalous);
        if (sc.sizes && modes.includes(sc.sizes.mode)) {
          sizes = (await remeasureSizes({ sizes: sc.sizes, maps: normals.map((f) => f.x), classes: normals.map((f) => f.cls), parts: memoParts, settings, sessionOptions: model.sessionOptions, ...(signal ? { signal } : {}) })).sizes;
          settings = { ...settings, sizes };
        }
        const remeasured = await remeasureDetail(set, memoParts, settings, modes, sc.mode, model.sessionOptions, signal ? { signal } : {});
        detail = remeasured?.detail;
        context = remeasured?.context;
        if (pr) {
          profiles = (await remeasureProfiles({ profiles: pr, maps: normals.map((f) => f.x), classes: normals.map((f) => f.cls), parts: memoParts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}) }, sessionOptions: model.sessionOptions, ...(signal ? { signal } : {}) })).profiles;
        }
        const leftOut = await leftOutMapsOfBundle(model.bundle, data, config.threshold, model.sessionOptions, { ...(signal ? { signal } : {}), log: (s) => log(`train: ${s}`) });
        if (leftOut.length > 0) log(`train: ${describeLeftOut(leftOut)}`);
        // The profiled mode's scores from the detail pass were taken without the profiles: calibration scores it again.
        const scored = remeasured?.scored.filter((k) => k.mode !== profiles?.mode);
        const calibrated = await calibrateModes(set, memoParts, { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(profiles ? { profiles } : {}) }, modes, config.threshold, model.sessionOptions, { ...(signal ? { signal } : {}), log: (s) => log(`train: ${s}`), ...(scored ? { scored } : {}), leftOut });
        // The edge correction's profiles on the set's normals, as the new U-Net serves them.
        if (sc.edges && modes.includes(sc.edges.mode)) {
          edges = (await remeasureEdges({ edges: sc.edges, maps: normals.map((f) => f.x), classes: normals.map((f) => f.cls), parts: memoParts, settings: { ...settings, ...(detail ? { detail } : {}), ...(context ? { context } : {}) }, sessionOptions: model.sessionOptions, ...(signal ? { signal } : {}) })).edges;
        }
        return calibrated;
      });
    } else {
      if (!basis) throw new Error("unreachable: the held-out maps are read before training when --data is not given");
      if (basis.missing > 0) log(`train: ${basis.missing} of fit's ${basis.listed} held-out files could not be read (from ${m.provenance.dataset}); calibrating without them`);
      ({ thresholds, detail, context, edges, sizes, profiles } = await calibrateThresholds(model, parts, basis.maps, modesOf(model, true), { classes: basis.classes, ...(signal ? { signal } : {}) }));
    }

    const createdAt = new Date();
    const train = {
      budget: { minutes: options.minutes ?? null, epochs: options.epochs ?? null, steps: options.steps ?? null },
      steps: trained.steps,
      stoppedBy: trained.stoppedBy,
      seconds: Math.round(trained.elapsedSeconds),
      finalLoss: trained.finalLoss,
      // Kept for readers of older records: the maps trained on, whichever the source.
      replayMaps: replay.length,
      trainingMaps: replay.length,
      source,
      lr: cfg.lr,
      tMax: cfg.tMax ?? cfg.T,
      ema: cfg.ema ?? null,
      minSnr: cfg.minSnr ?? null,
      samplesPerSecond: trained.samplesPerSecond,
      executionProvider: trained.executionProvider,
    };
    const d = m.config.diffusion;
    const manifest: Omit<BundleManifest, "files" | "format" | "formatVersion"> = {
      ...withoutFiles(m),
      version: bundleVersion(createdAt, trained.unetOnnx),
      createdAt: createdAt.toISOString(),
      // The bundle's config says how its model was trained (and later retrain jobs follow it).
      config: { ...m.config, diffusion: { ...d, ...(cfg.tMax !== undefined ? { tMax: cfg.tMax } : {}), ...(cfg.ema !== undefined ? { ema: cfg.ema } : {}), ...(cfg.minSnr !== undefined ? { minSnr: cfg.minSnr } : {}) } },
      ...(detail || edges || sizes || profiles ? { scoring: { ...m.scoring, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(edges ? { edges } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) } } : {}),
      threshold: thresholds[m.scoring.mode] ?? m.threshold,
      thresholds,
      metrics: { ...m.metrics, train },
      parentVersion: m.version,
      provenance: { ...m.provenance, timings: { ...m.provenance.timings, train: Math.round(performance.now() - started) } },
    };
    // A tiled class's tile map is brought to the whole map's units, which the new U-Net moves: they are measured again
    // (its tile model is not retrained here).
    const denoiser = m.scoring.denoiserFile!;
    const tiling = m.tiling
      ? await withWholeUnitsRemeasured(
          { dir: out, manifest: { ...m, ...manifest, files: { ...m.files, [denoiser]: sha256(trained.unetOnnx) } }, file: (name) => (name === denoiser ? trained.unetOnnx : model.bundle.file(name)) },
          m.tiling,
          { dataset: options.data ?? m.provenance.dataset, holdoutFiles: m.provenance.holdoutFiles ?? [] },
          options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {},
          { info: (msg) => log(`train: ${msg}`), warn: (msg) => log(`train: ${msg}`) },
        )
      : undefined;
    written = await writeCandidate(out, m, (name) => model.bundle.file(name), tiling ? { ...manifest, tiling } : manifest, { [denoiser]: trained.unetOnnx }, options.intraOpThreads, out === options.bundle || resolve(out) === resolve(options.bundle));
    await rm(checkpointDir, { recursive: true, force: true });
    log(`train: wrote ${out} (version ${written.version}, parent ${m.version}): ${trained.steps} steps (${trained.stoppedBy}), final loss ${trained.finalLoss.toFixed(4)}`);
  } finally {
    await model.release();
  }
  if (options.tune) {
    written = await tuneBundle({
      bundle: out,
      data: options.data!,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.progressSink ? { progressSink: options.progressSink } : {}),
      ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
      log,
    });
  }
  return written;
}
