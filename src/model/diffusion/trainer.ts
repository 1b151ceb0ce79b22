/**
 * Trains ε_θ on normal features with Eq. 6, entirely in ONNX Runtime: the
 * U-Net forward graph (training-graph.ts) goes through reverse-mode autodiff
 * and an AdamW update (src/onnx/autodiff), and each session call performs
 * one optimizer step: parameters and moments in, updated ones and the loss out.
 *
 * Per step, the host draws a batch (a per-epoch permutation of the data), t
 * uniform in [1, tMax] (t-sampling.ts; tMax = T by default) and ε ~ N(0, I)
 * from the stream (seed, step), so a resumed run repeats an uninterrupted one
 * exactly. With `cfg.ema` the host keeps an EMA of the weights after every
 * step (weight-ema.ts) and exports that instead of the last weights.
 * Checkpoints (checkpoint.ts) are written every `checkpointEverySteps`, on
 * interrupt (AbortSignal) and at the end; they carry the EMA shadow and the
 * wall-clock time trained so far, so a time budget continues across resumes.
 */
import * as ort from "onnxruntime-node";
import { buildTrainStep } from "../../onnx/autodiff/train-step.js";
import { ErrorCode, LafiteError } from "../../util/errors.js";
import { formatSeconds, Progress, type ProgressSink } from "../../util/progress.js";
import { CHECKPOINT_FILE, hashText, readCheckpoint, writeCheckpoint } from "./checkpoint.js";
import { configKey, type DiffusionConfig, type ExecutionProviderName } from "./config.js";
import { createSessionWithFallback } from "./execution-provider.js";
import { exportUNet } from "./export.js";
import { initParams } from "./init.js";
import { createRng } from "./prng.js";
import { sampleTrainingStep, trainingTMax } from "./t-sampling.js";
import { emaInit, emaUpdate } from "./weight-ema.js";
import { batchIndices, capTrainingSet, learningRate, totalSteps } from "./training-plan.js";
import { cosineSchedule } from "./schedule.js";
import { timestepEmbedding } from "./time-embedding.js";
import { buildTrainingForward } from "./training-graph.js";
import { minSnrWeights } from "./loss-weight.js";
import { unetParamSpecs, type FeatureShape } from "./unet.js";

export interface TrainOptions {
  readonly signal?: AbortSignal;
  /** Where progress lines go (default: `log`). */
  readonly progressSink?: ProgressSink;
  /** Folder for checkpoints; training resumes from one found there with the same config and data. */
  readonly checkpointDir?: string;
  readonly log?: (line: string) => void;
  /** Called after every optimizer step with the step count so far and that step's loss. */
  readonly onStep?: (step: number, loss: number) => void;
  /**
   * Start from these weights instead of the seeded initialization (fine-tuning
   * a trained model); AdamW moments start at zero. Every parameter of the
   * config must be present with its shape.
   */
  readonly initialWeights?: ReadonlyMap<string, Float32Array>;
  /** Asked before each step; true ends training normally (a time budget), unlike the signal, which cancels. */
  readonly shouldStop?: (step: number) => boolean;
  /**
   * Wall-clock budget in seconds, counted across resumes (the checkpoint keeps
   * the time trained so far): training ends normally once it is spent, and
   * the progress ETA is the budget's when that comes first.
   */
  readonly timeBudgetSeconds?: number;
  /**
   * Hands the inference model (the weight EMA when on) to `take` after each
   * of `atSteps`, for learning curves from one run (bench:budget --from):
   * the run goes on unchanged, and the time `take` spends is not training
   * time (it counts neither toward the budget nor the rate).
   */
  readonly snapshots?: { readonly atSteps: readonly number[]; readonly take: (step: number, unetOnnx: Uint8Array, loss: number) => Promise<void> };
}

export interface TrainResult {
  /** The inference weights: the weight EMA when `cfg.ema` is set, else the last step's. */
  readonly weights: Map<string, Float32Array>;
  /** The inference graph (export.ts) holding `weights`. */
  readonly unetOnnx: Uint8Array;
  /** Bias-corrected exponential average (β = 0.98) of the training loss at the end. */
  readonly finalLoss: number;
  /** Optimizer steps completed in total (including those before a resume). */
  readonly steps: number;
  readonly executionProvider: ExecutionProviderName;
  /** Bytes passed into and out of the session per optimizer step. */
  readonly bytesPerStep: { readonly in: number; readonly out: number };
  /** Samples per second over this run's steps (excluding graph build). */
  readonly samplesPerSecond: number;
  /** Number of training maps used (after the memory cap). */
  readonly samplesUsed: number;
  /** Why training ended: all planned steps done, the time budget spent, or `shouldStop`. */
  readonly stoppedBy: "steps" | "time budget" | "shouldStop";
  /** Wall-clock seconds of training, including runs before a resume. */
  readonly elapsedSeconds: number;
}

const KEY_STEP = 3;
const LOSS_EMA = 0.98;

/** A cheap fingerprint of the data: count, size and a strided sample of values. */
function dataFingerprint(features: readonly Float32Array[]): string {
  const parts: number[] = [features.length, features[0]?.length ?? 0];
  const stride = Math.max(1, Math.floor(features.length / 16));
  for (let i = 0; i < features.length; i += stride) {
    const f = features[i]!;
    for (let k = 0; k < 8; k++) parts.push(f[Math.floor((k * f.length) / 8)]!);
  }
  return parts.join(",");
}

/** Copies of given weights, checked against the parameters the config declares. */
function startingWeights(specs: ReturnType<typeof unetParamSpecs>["params"], given: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const p of specs) {
    const w = given.get(p.name);
    const n = p.shape.reduce((a, b) => a * b, 1);
    if (!w || w.length !== n) {
      throw new LafiteError(ErrorCode.INVALID_INPUT, `diffusion training: initial weight '${p.name}' is ${w ? `${w.length} values, expected ${n}` : "missing"} (a model of another config?)`);
    }
    out.set(p.name, Float32Array.from(w));
  }
  return out;
}

/** ORT outputs and our own arrays never sit on a SharedArrayBuffer; this narrows the type for ort.Tensor. */
function own(a: Float32Array): Float32Array<ArrayBuffer> {
  return a as Float32Array<ArrayBuffer>;
}

export async function trainDiffusion(
  features: readonly Float32Array[],
  shape: FeatureShape,
  cfg: DiffusionConfig,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const size = shape.c * shape.h * shape.w;
  if (features.length === 0) throw new LafiteError(ErrorCode.INVALID_INPUT, "diffusion training: no feature maps given");
  features.forEach((f, i) => {
    if (f.length !== size) throw new LafiteError(ErrorCode.INVALID_INPUT, `diffusion training: feature map ${i} has ${f.length} values, expected ${shape.c}×${shape.h}×${shape.w} = ${size}`);
  });
  const data = capTrainingSet(features, cfg, log);
  const n = data.length;
  const B = cfg.batchSize;
  const total = totalSteps(cfg, n);
  const schedule = cosineSchedule(cfg.T);
  const tMax = trainingTMax(cfg.T, cfg.tMax);
  if (cfg.ema !== undefined && !(cfg.ema > 0 && cfg.ema < 1)) throw new LafiteError(ErrorCode.INVALID_INPUT, `diffusion training: ema decay must be in (0, 1), got ${cfg.ema}`);
  const d = cfg.unet.timeEmbedDim;
  const configHash = hashText(`${configKey(cfg, shape)}|${dataFingerprint(data)}`);

  // The training step graph.
  const lossWeights = cfg.minSnr !== undefined ? minSnrWeights(schedule, tMax, cfg.minSnr) : undefined;
  const fwd = buildTrainingForward(cfg.unet, shape, B, lossWeights !== undefined);
  const stepBytes = buildTrainStep({ graph: fwd.graph, params: fwd.params, loss: fwd.loss, adamw: cfg.adamw });
  const { session, provider } = await createSessionWithFallback(stepBytes, cfg.executionProvider, {
    intraOpNumThreads: cfg.intraOpNumThreads,
    what: "diffusion training",
    log,
  });

  // State: fresh, or from a checkpoint of the same config and data.
  const specs = unetParamSpecs(cfg.unet, shape).params;
  let params: Map<string, Float32Array> = opts.initialWeights ? startingWeights(specs, opts.initialWeights) : initParams(specs, cfg.seed);
  let m: Map<string, Float32Array> = new Map([...params].map(([k, x]) => [k, new Float32Array(x.length)]));
  let v: Map<string, Float32Array> = new Map([...params].map(([k, x]) => [k, new Float32Array(x.length)]));
  let step = 0;
  let ema = { value: 0, weight: 0 };
  // The weight EMA's shadow (the loss average above is another, fixed EMA).
  let shadow: Map<string, Float32Array> | undefined;
  let elapsedBefore = 0;
  if (opts.checkpointDir) {
    const ck = await readCheckpoint(opts.checkpointDir);
    if (ck && ck.configHash === configHash && ck.step <= total) {
      params = new Map(ck.params);
      m = new Map(ck.m);
      v = new Map(ck.v);
      step = ck.step;
      ema = { ...ck.lossEma };
      if (ck.ema) shadow = new Map(ck.ema);
      elapsedBefore = ck.elapsedSeconds ?? 0;
      log(`diffusion training: resuming from ${opts.checkpointDir}/${CHECKPOINT_FILE} at step ${step}/${total}`);
    } else if (ck) {
      log(`diffusion training: ignoring the checkpoint in ${opts.checkpointDir} (different config or data); starting fresh`);
    }
  }
  if (cfg.ema !== undefined) shadow ??= emaInit(params);
  let t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  const save = async () => {
    if (opts.checkpointDir) await writeCheckpoint(opts.checkpointDir, { configHash, step, seed: cfg.seed, lossEma: ema, params, m, v, ...(shadow ? { ema: shadow } : {}), elapsedSeconds: elapsed() });
  };

  const x0 = new Float32Array(B * size);
  const noise = new Float32Array(B * size);
  const sa = new Float32Array(B);
  const s1 = new Float32Array(B);
  const ts = new Array<number>(B);
  const full = [B, shape.c, shape.h, shape.w];
  const paramBytes = specs.reduce((a, p) => a + params.get(p.name)!.byteLength, 0);
  const bytesPerStep = {
    in: 2 * x0.byteLength + 2 * sa.byteLength + B * d * 4 + 3 * paramBytes + 8,
    out: 3 * paramBytes + 4,
  };
  const budget = opts.timeBudgetSeconds;
  log(`diffusion training: ${n} maps ${shape.c}×${shape.h}×${shape.w}, batch ${B}, ${total >= Number.MAX_SAFE_INTEGER ? "steps until the time budget" : `${total} steps`}${budget !== undefined ? `, time budget ${formatSeconds(budget)}` : ""}, t in [1, ${tMax}]${cfg.ema !== undefined ? `, weight EMA ${cfg.ema}` : ""}${cfg.minSnr !== undefined ? `, min-SNR γ ${cfg.minSnr}` : ""}, ${specs.length} tensors (${(paramBytes / 4 / 1e6).toFixed(2)} M params); host↔session per step ${(bytesPerStep.in / 1e6).toFixed(1)} MB in, ${(bytesPerStep.out / 1e6).toFixed(1)} MB out`);

  const startStep = step;
  const emaValue = () => (ema.weight > 0 ? ema.value / ema.weight : NaN);
  const progress: Progress = new Progress(startStep > 0 ? `train (from step ${startStep})` : "train", total - startStep, {
    unit: "steps",
    sink: opts.progressSink ?? log,
    intervalMs: 2000,
    detail: (): string => `loss ${emaValue().toFixed(4)} ${((progress.count * B) / Math.max((performance.now() - t0) / 1000, 1e-9)).toFixed(1)} samples/s`,
    // The whole budget's ETA: steps left at this rate, or the time left, whichever ends first.
    ...(budget !== undefined ? { remainingSeconds: (byRate: number) => Math.min(byRate, Math.max(0, budget - elapsed())) } : {}),
  });
  let lastSaved = step;
  let stoppedBy: TrainResult["stoppedBy"] = "steps";
  try {
    while (step < total) {
      if (budget !== undefined && elapsed() >= budget) {
        stoppedBy = "time budget";
        break;
      }
      if (opts.shouldStop?.(step)) {
        stoppedBy = "shouldStop";
        break;
      }
      if (opts.signal?.aborted) {
        await save();
        throw new LafiteError(ErrorCode.CANCELLED, `diffusion training was interrupted at step ${step}/${total}${opts.checkpointDir ? `; checkpoint in ${opts.checkpointDir}` : ""}`);
      }
      // Eq. 6 inputs for this step, from the stream (seed, step).
      const idx = batchIndices(cfg.seed, step, n, B);
      idx.forEach((i, j) => x0.set(data[i]!, j * size));
      const rng = createRng(cfg.seed, KEY_STEP, step);
      for (let j = 0; j < B; j++) {
        const t = sampleTrainingStep(rng, tMax);
        ts[j] = t;
        sa[j] = Math.sqrt(schedule.alphaBar[t]!);
        s1[j] = Math.sqrt(1 - schedule.alphaBar[t]!);
      }
      for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();

      const feeds: Record<string, ort.Tensor> = {
        x0: new ort.Tensor("float32", x0, full),
        noise: new ort.Tensor("float32", noise, full),
        sqrt_ab: new ort.Tensor("float32", sa, [B, 1, 1, 1]),
        sqrt_1mab: new ort.Tensor("float32", s1, [B, 1, 1, 1]),
        temb: new ort.Tensor("float32", timestepEmbedding(ts, d), [B, d]),
        ...(lossWeights ? { loss_w: new ort.Tensor("float32", Float32Array.from(ts, (t) => lossWeights[t]!), [B, 1, 1, 1]) } : {}),
        lr: new ort.Tensor("float32", Float32Array.of(learningRate(cfg, step, total)), []),
        step: new ort.Tensor("float32", Float32Array.of(step + 1), []),
      };
      for (const p of fwd.params) {
        feeds[p.name] = new ort.Tensor("float32", own(params.get(p.name)!), p.shape);
        feeds[`m/${p.name}`] = new ort.Tensor("float32", own(m.get(p.name)!), p.shape);
        feeds[`v/${p.name}`] = new ort.Tensor("float32", own(v.get(p.name)!), p.shape);
      }
      const out = await session.run(feeds);
      const loss = (out.loss!.data as Float32Array)[0]!;
      if (!Number.isFinite(loss)) {
        throw new LafiteError(ErrorCode.INTERNAL, `diffusion training diverged at step ${step + 1} (loss ${loss}); lower the learning rate (now ${cfg.lr})`);
      }
      for (const p of fwd.params) {
        params.set(p.name, out[`new/${p.name}`]!.data as Float32Array);
        m.set(p.name, out[`new_m/${p.name}`]!.data as Float32Array);
        v.set(p.name, out[`new_v/${p.name}`]!.data as Float32Array);
      }
      if (shadow) emaUpdate(shadow, params, cfg.ema!, step);
      ema = { value: LOSS_EMA * ema.value + (1 - LOSS_EMA) * loss, weight: LOSS_EMA * ema.weight + (1 - LOSS_EMA) };
      step++;
      progress.tick();
      opts.onStep?.(step, loss);
      if (opts.checkpointDir && step - lastSaved >= cfg.checkpointEverySteps) {
        await save();
        lastSaved = step;
      }
      if (opts.snapshots?.atSteps.includes(step)) {
        const paused = performance.now();
        await opts.snapshots.take(step, exportUNet(cfg.unet, shape, new Map(shadow ?? params)), emaValue());
        t0 += performance.now() - paused;
      }
    }
    if (step !== lastSaved) await save();
  } finally {
    await session.release();
  }
  const secs = (performance.now() - t0) / 1000;
  const weights = new Map(shadow ?? params);
  return {
    weights,
    unetOnnx: exportUNet(cfg.unet, shape, weights),
    finalLoss: emaValue(),
    steps: step,
    executionProvider: provider,
    bytesPerStep,
    samplesPerSecond: ((step - startStep) * B) / Math.max(secs, 1e-9),
    samplesUsed: n,
    stoppedBy,
    elapsedSeconds: elapsedBefore + secs,
  };
}
