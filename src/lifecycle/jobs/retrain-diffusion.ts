/**
 * Job body `retrain` (issue 9 part 4): fine-tune the active bundle's U-Net on
 * the accepted normal frames while replaying the original normals, so the
 * model learns the new appearance without forgetting the old one.
 *   - Weights, replay and schedule: fine-tune-unet.ts (shared with `lafite
 *     train`): from denoiser.onnx's weights, constant lower learning rate.
 *   - Mix: each step's batch mixes replay maps and new
 *     maps; the new maps are repeated up to `newShare` of the mix (default
 *     0.5), so a handful of frames is not drowned by the replay set.
 *   - Budget: options.steps (default two passes over the mix) and/or
 *     options.minutes (wall clock, checked between steps).
 *   - Threshold: re-calibrated as in refresh (fit's and accepted held-out
 *     normals). Pseudo-validation re-tuning of τ/K is a hook
 *     (makeRetrainDiffusion({ retune })) wired where tuning lives.
 * Options: steps, minutes, lr, newShare, holdout, tMax, ema, intraOpThreads.
 */
import type { BundleManifest, TuningRecord } from "../../model/bundle.js";
import { rowPartsOf } from "../../model/bundle.js";
import { trainDiffusion } from "../../model/diffusion/index.js";
import type { FeatureMap } from "../../model/types.js";
import type { ScorerParts } from "../../pipeline/open-scorer.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { bundlePreset, fineTuneConfig, fineTuneSource } from "./fine-tune-unet.js";
import { throwIfCancelled } from "../../util/progress.js";
import { openActiveModel } from "./active-model.js";
import { baseHoldoutMaps, calibrateThresholds, modesOf, type ScoringOverrides } from "./calibrate.js";
import { bundleVersion, withoutFiles, writeCandidate } from "./candidate.js";
import { acceptedFeatures, judgedClassOf } from "./accepted-features.js";
import { checkOptionKeys, choiceOption, numberOption } from "./options.js";
import { trainingFeaturesOf } from "./training-features.js";
import type { JobBody } from "./types.js";
import { withTiledClasses } from "./tiled-classes.js";

/** What a re-tuning hook sees: the candidate's scorer parts and the held-out normal maps. */
export interface RetuneInput {
  readonly parent: BundleManifest;
  readonly parts: ScorerParts;
  readonly holdout: readonly FeatureMap[];
  readonly signal: AbortSignal;
}
/** Returns the scoring settings to use from now on and the record of how they were chosen. */
export type RetuneHook = (input: RetuneInput) => Promise<{ overrides: ScoringOverrides; tuning: TuningRecord }>;

export function makeRetrainDiffusion(hooks: { retune?: RetuneHook } = {}): JobBody {
  return async (ctx) => {
    const started = performance.now();
    const timings: Record<string, number> = {};
    let t = performance.now();
    const lap = (name: string) => {
      timings[name] = Math.round(performance.now() - t);
      t = performance.now();
    };
    const o = ctx.options;
    checkOptionKeys(o, "retrain", ["steps", "minutes", "lr", "tMax", "ema", "minSnr", "newShare", "holdout", "intraOpThreads", "trainingData"]);
    const trainingData = choiceOption(o, "trainingData", ["replay", "dataset"] as const) ?? "replay";
    const intraOpThreads = numberOption(o, "intraOpThreads", { min: 1, max: 64, integer: true });
    const model = await openActiveModel(ctx.activeBundleDir, intraOpThreads);
    try {
      const m = model.manifest;
      const { c, h, w } = m.features;
      const { unet, replay: stored } = fineTuneSource(model, ctx.activeBundleDir, trainingData === "replay" || m.replay !== undefined);
      // trainingData dataset: all of fit's training maps (long nightly budgets), falling back to the replay sample when fit's data set is gone.
      let replay = stored;
      let trainingSource: "replay" | "dataset" = "replay";
      if (trainingData === "dataset") {
        try {
          const full = await trainingFeaturesOf(model, m.provenance.dataset, { signal: ctx.signal, progressSink: (line) => ctx.log.debug(line) });
          replay = full.maps;
          trainingSource = "dataset";
          ctx.log.info({ dataset: m.provenance.dataset, maps: full.maps.length, heldOut: full.heldOut, capped: full.capped, unreadable: full.skipped.length }, "retrain: training on fit's data set");
        } catch (err) {
          throwIfCancelled(ctx.signal, "diffusion retraining");
          if (stored.length === 0) throw err;
          ctx.log.warn({ dataset: m.provenance.dataset, err: (err as Error).message, replay: stored.length }, "retrain: fit's data set is not readable; training on the replay sample");
        }
      }
      const denoiserFile = m.scoring.denoiserFile!;
      const holdoutFraction = numberOption(o, "holdout", { min: 0, max: 0.5 }) ?? m.config.threshold.holdout;
      const newShare = numberOption(o, "newShare", { min: 0.05, max: 0.95 }) ?? 0.5;
      lap("open");

      // New normals.
      const { learn, holdout, skipped, dataSnapshot, untagged } = await acceptedFeatures(model, ctx, { job: "retrain", what: "diffusion retraining", holdoutFraction, learnUse: "train" });
      if (learn.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, "retrain: no usable accepted frame to learn from");
      lap("features");

      // The mix: replay maps, plus the new maps repeated to about newShare of it (references, not copies).
      const repeats = Math.max(1, Math.round((newShare / (1 - newShare)) * (replay.length / learn.length)));
      const data: Float32Array[] = [...replay];
      for (let r = 0; r < repeats; r++) for (const it of learn) data.push(it.map.data);
      const minutes = numberOption(o, "minutes", { min: 0.01, max: 1e5 });
      const tMax = numberOption(o, "tMax", { min: 1, max: 1000, integer: true });
      const ema = numberOption(o, "ema", { min: 1e-6, max: 1 - 1e-9 });
      const lrOption = numberOption(o, "lr", { min: 1e-7, max: 1 });
      const minSnr = numberOption(o, "minSnr", { min: 1e-3, max: 1000 });
      // A time budget alone runs until it is spent (a nightly retrain); else two passes over the mix.
      const steps = numberOption(o, "steps", { min: 1, max: 1e7, integer: true }) ?? (minutes !== undefined ? Number.MAX_SAFE_INTEGER : 2 * Math.ceil(data.length / bundlePreset(m).batchSize));
      const cfg = fineTuneConfig(m, unet, {
        steps,
        ...(lrOption !== undefined ? { lr: lrOption } : {}),
        ...(tMax !== undefined ? { tMax } : {}),
        ...(ema !== undefined ? { ema } : {}),
        ...(minSnr !== undefined ? { minSnr } : {}),
        executionProvider: "cpu", // beside serving, on the runner's thread budget
        ...(intraOpThreads ? { intraOpThreads } : {}),
      });
      const lr = cfg.lr;
      ctx.log.info({ parent: m.version, replay: replay.length, newMaps: learn.length, repeats, steps, minutes, lr, tMax: cfg.tMax ?? cfg.T, ema: cfg.ema }, "retrain: fine-tuning");
      const trained = await trainDiffusion(data, { c, h, w }, cfg, {
        signal: ctx.signal,
        initialWeights: unet.weights,
        ...(minutes !== undefined ? { timeBudgetSeconds: minutes * 60 } : {}),
        onStep: (step) => ctx.progress(step, steps, "retrain: fine-tuning steps"),
        log: (line) => ctx.log.debug(line),
      });
      lap("train");

      // Thresholds (after an optional re-tuning of τ / K).
      throwIfCancelled(ctx.signal, "diffusion retraining");
      const basis = await baseHoldoutMaps(model, ctx.signal);
      if (basis.missing > 0) ctx.log.warn({ missing: basis.missing, listed: basis.listed, dataset: m.provenance.dataset }, "retrain: some of fit's held-out files could not be read; calibrating without them");
      const holdoutMaps = [...basis.maps, ...holdout.map((it) => it.map)];
      const holdoutClasses = [...basis.classes, ...holdout.map(judgedClassOf)];
      const parts: ScorerParts = { coreset: model.coreset, coresetSize: m.memory.coresetSize, c, unetOnnx: trained.unetOnnx, ...rowPartsOf(model.bundle) };
      const tuned = hooks.retune ? await hooks.retune({ parent: m, parts, holdout: holdoutMaps, signal: ctx.signal }) : undefined;
      const { thresholds, detail, context, edges, sizes, profiles } = await calibrateThresholds(model, parts, holdoutMaps, modesOf(model, true), {
        signal: ctx.signal,
        classes: holdoutClasses,
        ...(tuned ? { overrides: tuned.overrides } : {}),
        onProgress: (done, total) => ctx.progress(done, total, "retrain: threshold calibration (images × modes)"),
      });
      lap("threshold");

      const createdAt = new Date();
      const retrain = {
        acceptedFrames: ctx.accepted.length,
        trainFrames: learn.length,
        holdoutFrames: holdout.length,
        skippedFrames: skipped.length,
        ...(untagged.frames > 0 ? { untagged } : {}),
        replayMaps: replay.length,
        trainingData: trainingSource,
        newMapRepeats: repeats,
        steps: trained.steps,
        stepsPlanned: steps >= Number.MAX_SAFE_INTEGER ? null : steps,
        stoppedBy: trained.stoppedBy,
        lr,
        tMax: cfg.tMax ?? cfg.T,
        ema: cfg.ema ?? null,
        minSnr: cfg.minSnr ?? null,
        finalLoss: trained.finalLoss,
        samplesPerSecond: trained.samplesPerSecond,
        holdoutImages: { fit: basis.maps.length, accepted: holdout.length },
        retuned: tuned !== undefined,
        timings,
      };
      const manifest: Omit<BundleManifest, "files" | "format" | "formatVersion"> = {
        ...withoutFiles(m),
        version: bundleVersion(createdAt, trained.unetOnnx),
        createdAt: createdAt.toISOString(),
        // The detail and context banks' normalizers, measured again with the new U-Net.
        scoring: { ...m.scoring, ...(tuned?.overrides ?? {}), ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(edges ? { edges } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) },
        ...(tuned ? { tuning: tuned.tuning } : {}),
        threshold: thresholds[m.scoring.mode] ?? m.threshold,
        thresholds,
        metrics: { ...m.metrics, retrain },
        parentVersion: m.version,
        dataSnapshot,
      };
      const written = await writeCandidate(ctx.outDir, m, (name) => model.bundle.file(name), manifest, { [denoiserFile]: trained.unetOnnx }, intraOpThreads);
      lap("write");
      ctx.log.info({ version: written.version, steps: trained.steps }, "retrain: candidate written");
      return {
        summary: {
          version: written.version,
          parentVersion: m.version,
          ...retrain,
          thresholds: Object.fromEntries(Object.entries(thresholds).map(([k, v]) => [k, v.value])),
          skipped,
          seconds: (performance.now() - started) / 1000,
        },
      };
    } finally {
      await model.release();
    }
  };
}

/** The retraining of a bundle and, for its tiled classes, of their tile bundles (tiled-classes.ts). */
export const retrainDiffusion: JobBody = withTiledClasses(makeRetrainDiffusion());
