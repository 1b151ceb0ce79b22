/**
 * Job body `retrain` (issue 9 part 4): fine-tune the active bundle's U-Net on
 * the accepted normal frames while replaying the original normals, so the
 * model learns the new appearance without forgetting the old one.
 *   - Weights: the exported inference ONNX (denoiser.onnx) holds every U-Net
 *     parameter as an initializer plus its config and shape (readUNetModel),
 *     which is all training needs; AdamW moments restart at zero (fit keeps
 *     no optimizer state), so fine-tuning uses a constant, lower learning rate
 *     with a short warm-up.
 *   - Replay: the float16 sample of standardized training feature maps fit
 *     stored (manifest.replay). Each step's batch mixes replay maps and new
 *     maps; the new maps are repeated up to `newShare` of the mix (default
 *     0.5), so a handful of frames is not drowned by the replay set.
 *   - Budget: options.steps (default two passes over the mix) and/or
 *     options.minutes (wall clock, checked between steps).
 *   - Threshold: re-calibrated as in refresh (fit's and accepted held-out
 *     normals). Pseudo-validation re-tuning of τ/K is a hook
 *     (makeRetrainDiffusion({ retune })) wired where tuning lives.
 * Options: steps, minutes, lr, newShare, holdout, intraOpThreads.
 */
import type { BundleManifest, TuningRecord } from "../../model/bundle.js";
import { diffusionPreset, readUNetModel, trainDiffusion, type DiffusionConfig } from "../../model/diffusion/index.js";
import { decodeReplay } from "../../model/diffusion/replay.js";
import { hashString } from "../../model/diffusion/prng.js";
import type { FeatureMap } from "../../model/types.js";
import type { ScorerParts } from "../../pipeline/open-scorer.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import { openActiveModel } from "./active-model.js";
import { baseHoldoutMaps, calibrateThresholds, modesOf, type ScoringOverrides } from "./calibrate.js";
import { bundleVersion, withoutFiles, writeCandidate } from "./candidate.js";
import { featuresOfFiles } from "./frame-features.js";
import { numberOption } from "./options.js";
import { splitAccepted } from "./split-accepted.js";
import type { AcceptedFrame, JobBody } from "./types.js";

/** What a re-tuning hook sees: the candidate's scorer parts and the held-out normal maps. */
export interface RetuneInput {
  readonly parent: BundleManifest;
  readonly parts: ScorerParts;
  readonly holdout: readonly FeatureMap[];
  readonly signal: AbortSignal;
}
/** Returns the scoring settings to use from now on and the record of how they were chosen. */
export type RetuneHook = (input: RetuneInput) => Promise<{ overrides: ScoringOverrides; tuning: TuningRecord }>;

/** Fine-tuning learning rate relative to the preset's (moments restart, and the model is already trained). */
const FINE_TUNE_LR_SCALE = 0.2;

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
    const intraOpThreads = numberOption(o, "intraOpThreads", { min: 1, max: 64, integer: true });
    const model = await openActiveModel(ctx.activeBundleDir, intraOpThreads);
    try {
      const m = model.manifest;
      const { c, h, w } = m.features;
      if (!m.scoring.denoiserFile) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${ctx.activeBundleDir} has no diffusion model to retrain (fitted with diffusion.preset none); use the refresh job`);
      if (!m.replay) {
        throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${ctx.activeBundleDir} keeps no replay sample of its training features (fitted before replay was stored, or with diffusion.replayMB 0); refit once to enable retraining`);
      }
      const unet = readUNetModel(model.bundle.file(m.scoring.denoiserFile));
      if (unet.shape.c !== c || unet.shape.h !== h || unet.shape.w !== w) {
        throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${ctx.activeBundleDir}: denoiser is for ${unet.shape.c}×${unet.shape.h}×${unet.shape.w} features, manifest says ${c}×${h}×${w}`);
      }
      const replay = decodeReplay(model.bundle.file(m.replay.file), m.replay.count, c * h * w);
      const holdoutFraction = numberOption(o, "holdout", { min: 0, max: 0.5 }) ?? m.config.threshold.holdout;
      const newShare = numberOption(o, "newShare", { min: 0.05, max: 0.95 }) ?? 0.5;
      lap("open");

      // New normals.
      const feats = await featuresOfFiles(model, ctx.accepted, {
        signal: ctx.signal,
        what: "diffusion retraining",
        onProgress: (done) => ctx.progress(done, ctx.accepted.length, "retrain: features of accepted frames"),
      });
      const uses = new Map<AcceptedFrame, "train" | "holdout" | "skipped">();
      const skipped: { sha256: string; reason: string }[] = [];
      const usable: { frame: AcceptedFrame; map: FeatureMap }[] = [];
      ctx.accepted.forEach((frame, i) => {
        const f = feats[i]!;
        if (f.ok) usable.push({ frame, map: f.map });
        else {
          uses.set(frame, "skipped");
          skipped.push({ sha256: frame.sha256, reason: f.reason });
          ctx.log.warn({ path: frame.path, reason: f.reason }, "retrain: accepted frame skipped");
        }
      });
      const { learn, holdout } = splitAccepted(usable, holdoutFraction);
      for (const it of learn) uses.set(it.frame, "train");
      for (const it of holdout) uses.set(it.frame, "holdout");
      if (learn.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, "retrain: no usable accepted frame to learn from");
      lap("features");

      // The mix: replay maps, plus the new maps repeated to about newShare of it (references, not copies).
      const repeats = Math.max(1, Math.round((newShare / (1 - newShare)) * (replay.length / learn.length)));
      const data: Float32Array[] = [...replay];
      for (let r = 0; r < repeats; r++) for (const it of learn) data.push(it.map.data);
      const preset = m.config.diffusion.preset === "none" ? "tiny" : m.config.diffusion.preset;
      const base = diffusionPreset(preset, m.config.diffusion.batchSize !== undefined ? { batchSize: m.config.diffusion.batchSize } : {});
      const B = base.batchSize;
      const steps = numberOption(o, "steps", { min: 1, max: 1e7, integer: true }) ?? 2 * Math.ceil(data.length / B);
      const minutes = numberOption(o, "minutes", { min: 0.01, max: 1e5 });
      const lr = numberOption(o, "lr", { min: 1e-7, max: 1 }) ?? (m.config.diffusion.lr ?? base.lr) * FINE_TUNE_LR_SCALE;
      const cfg: DiffusionConfig = {
        ...base,
        unet: unet.cfg, // the model's own architecture, whatever the preset says today
        lr,
        lrSchedule: "constant",
        warmupSteps: Math.min(20, Math.floor(steps / 10)),
        epochs: Number.MAX_SAFE_INTEGER,
        maxSteps: steps,
        // Its own stream: the parent's seed would replay fit's batches and noise.
        seed: (m.config.seed ^ hashString(m.version)) >>> 0,
        maxDataMB: Number.MAX_SAFE_INTEGER,
        executionProvider: "cpu",
        ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
      };
      const deadline = minutes !== undefined ? performance.now() + minutes * 60_000 : Infinity;
      ctx.log.info({ parent: m.version, replay: replay.length, newMaps: learn.length, repeats, steps, minutes, lr }, "retrain: fine-tuning");
      const trained = await trainDiffusion(data, { c, h, w }, cfg, {
        signal: ctx.signal,
        initialWeights: unet.weights,
        shouldStop: () => performance.now() >= deadline,
        onStep: (step) => ctx.progress(step, steps, "retrain: fine-tuning steps"),
        log: (line) => ctx.log.debug(line),
      });
      lap("train");

      // Thresholds (after an optional re-tuning of τ / K).
      throwIfCancelled(ctx.signal, "diffusion retraining");
      const basis = await baseHoldoutMaps(model, ctx.signal);
      if (basis.missing > 0) ctx.log.warn({ missing: basis.missing, listed: basis.listed, dataset: m.provenance.dataset }, "retrain: some of fit's held-out files could not be read; calibrating without them");
      const holdoutMaps = [...basis.maps, ...holdout.map((it) => it.map)];
      const parts: ScorerParts = { coreset: model.coreset, coresetSize: m.memory.coresetSize, c, unetOnnx: trained.unetOnnx };
      const tuned = hooks.retune ? await hooks.retune({ parent: m, parts, holdout: holdoutMaps, signal: ctx.signal }) : undefined;
      const thresholds = await calibrateThresholds(model, parts, holdoutMaps, modesOf(model, true), {
        signal: ctx.signal,
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
        replayMaps: replay.length,
        newMapRepeats: repeats,
        steps: trained.steps,
        stepsPlanned: steps,
        stoppedBy: trained.steps < steps ? "time budget" : "steps",
        lr,
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
        scoring: { ...m.scoring, ...(tuned?.overrides ?? {}) },
        ...(tuned ? { tuning: tuned.tuning } : {}),
        threshold: thresholds[m.scoring.mode] ?? m.threshold,
        thresholds,
        metrics: { ...m.metrics, retrain },
        parentVersion: m.version,
        dataSnapshot: {
          job: "retrain",
          accepted: ctx.accepted.map((f) => ({ sha256: f.sha256, ...(f.classTag !== undefined ? { classTag: f.classTag } : {}), use: uses.get(f) ?? "skipped" })),
        },
      };
      const written = await writeCandidate(ctx.outDir, m, (name) => model.bundle.file(name), manifest, { [m.scoring.denoiserFile]: trained.unetOnnx }, intraOpThreads);
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

export const retrainDiffusion: JobBody = makeRetrainDiffusion();
