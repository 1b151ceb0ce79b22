/**
 * Continuing the training of a bundle's U-Net: shared by the retrain job
 * (retrain-diffusion.ts: replay + accepted frames) and `lafite train`
 * (src/lifecycle/train-bundle.ts: replay only, a longer budget).
 *   - Weights: the exported inference ONNX (denoiser.onnx) holds every U-Net
 *     parameter as an initializer plus its config and shape (readUNetModel),
 *     which is all training needs; AdamW moments restart at zero (bundles keep
 *     no optimizer state), so the default is a constant, lower learning rate
 *     with a short warm-up.
 *   - Data: the float16 replay sample of standardized training feature maps
 *     fit stored (manifest.replay).
 *   - t range, weight EMA and min-SNR weighting: the bundle config's
 *     diffusion.tMax / ema / minSnr unless the caller overrides them.
 */
import type { BundleManifest } from "../../model/bundle.js";
import { diffusionPreset, readUNetModel, type DiffusionConfig, type ExecutionProviderName, type UNetModel } from "../../model/diffusion/index.js";
import { decodeReplay } from "../../model/diffusion/replay.js";
import { hashString } from "../../model/diffusion/prng.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import type { ActiveModel } from "./active-model.js";

/** Fine-tuning learning rate relative to the preset's (moments restart, and the model is already trained). */
export const FINE_TUNE_LR_SCALE = 0.2;

export interface FineTuneSource {
  readonly unet: UNetModel;
  /** The replay maps, c×h×w float32 each; empty when not asked for. */
  readonly replay: Float32Array[];
}

/**
 * The bundle's U-Net and (unless `withReplay` is false: the caller trains on
 * the data set's own features) its replay maps, or a BAD_BUNDLE error saying
 * what is missing.
 */
export function fineTuneSource(model: ActiveModel, dir: string, withReplay = true): FineTuneSource {
  const m = model.manifest;
  const { c, h, w } = m.features;
  if (!m.scoring.denoiserFile) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir} has no diffusion model to train (fitted with diffusion.preset none); use the refresh job`);
  if (withReplay && !m.replay) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir} keeps no replay sample of its training features (fitted before replay was stored, or with diffusion.replayMB 0); refit once to enable retraining, or train with --data DIR`);
  }
  const unet = readUNetModel(model.bundle.file(m.scoring.denoiserFile));
  if (unet.shape.c !== c || unet.shape.h !== h || unet.shape.w !== w) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: denoiser is for ${unet.shape.c}×${unet.shape.h}×${unet.shape.w} features, manifest says ${c}×${h}×${w}`);
  }
  return { unet, replay: withReplay && m.replay ? decodeReplay(model.bundle.file(m.replay.file), m.replay.count, c * h * w) : [] };
}

export interface FineTuneSettings {
  /** Step cap (Number.MAX_SAFE_INTEGER when only a time budget ends the run). */
  readonly steps: number;
  readonly lr?: number;
  readonly tMax?: number;
  readonly ema?: number;
  readonly minSnr?: number;
  readonly executionProvider?: ExecutionProviderName;
  readonly intraOpThreads?: number;
}

/** The diffusion preset a bundle was fitted with (tiny for a knn-only bundle), with its configured batch size. */
export function bundlePreset(m: BundleManifest): DiffusionConfig {
  const d = m.config.diffusion;
  return diffusionPreset(d.preset === "none" ? "tiny" : d.preset, d.batchSize !== undefined ? { batchSize: d.batchSize } : {});
}

/** The bundle's preset and batch size, its U-Net's own architecture, and the fine-tuning schedule. */
export function fineTuneConfig(m: BundleManifest, unet: UNetModel, s: FineTuneSettings): DiffusionConfig {
  const d = m.config.diffusion;
  const base = bundlePreset(m);
  const tMax = s.tMax ?? d.tMax;
  const ema = s.ema ?? d.ema;
  const minSnr = s.minSnr ?? d.minSnr;
  // The fit's training-set budget (the cpu preset's maxSamples) is not a fine-tuning budget: the caller's steps and minutes are.
  const { maxSamples: _fitBudget, ...rest } = base;
  return {
    ...rest,
    unet: unet.cfg, // the model's own architecture, whatever the preset says today
    lr: s.lr ?? (d.lr ?? base.lr) * FINE_TUNE_LR_SCALE,
    lrSchedule: "constant",
    warmupSteps: Math.min(20, Math.floor(s.steps / 10)),
    epochs: Number.MAX_SAFE_INTEGER,
    maxSteps: s.steps,
    // Its own stream: the parent's seed would replay fit's batches and noise.
    seed: (m.config.seed ^ hashString(m.version)) >>> 0,
    maxDataMB: Number.MAX_SAFE_INTEGER,
    executionProvider: s.executionProvider ?? "cpu",
    ...(s.intraOpThreads ? { intraOpNumThreads: s.intraOpThreads } : {}),
    ...(tMax !== undefined ? { tMax } : {}),
    ...(ema !== undefined ? { ema } : {}),
    ...(minSnr !== undefined ? { minSnr } : {}),
  };
}
