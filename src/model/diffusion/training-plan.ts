/**
 * The plan of a training run, pure: which maps are used (memory cap), how
 * many steps, which maps form each batch, and the learning rate per step.
 * All randomness comes from streams of the seed, so a step's batch does not
 * depend on what ran before it (resume repeats an uninterrupted run).
 */
import type { DiffusionConfig } from "./config.js";
import { createRng, permutation } from "./prng.js";

/** Stream keys: each use of randomness has its own stream under the seed (trainer.ts uses 3 per step). */
const KEY_SUBSET = 1;
const KEY_EPOCH = 2;

export function learningRate(cfg: DiffusionConfig, step: number, totalSteps: number): number {
  if (step < cfg.warmupSteps) return (cfg.lr * (step + 1)) / cfg.warmupSteps;
  if (cfg.lrSchedule === "constant") return cfg.lr;
  const span = Math.max(totalSteps - cfg.warmupSteps, 1);
  const p = Math.min((step - cfg.warmupSteps) / span, 1);
  return cfg.lr * 0.5 * (1 + Math.cos(Math.PI * p));
}

export function totalSteps(cfg: DiffusionConfig, samples: number): number {
  const perEpoch = Math.ceil(samples / cfg.batchSize);
  const byEpochs = cfg.epochs * perEpoch;
  const bySamples = cfg.maxSamples !== undefined ? Math.max(1, Math.ceil(cfg.maxSamples / cfg.batchSize)) : Infinity;
  return Math.min(byEpochs, cfg.maxSteps ?? Infinity, bySamples);
}

/** How many of `count` maps of `bytesPerMap` bytes training keeps under the `maxDataMB` cap (at least one). */
export function trainingSetSize(cfg: Pick<DiffusionConfig, "maxDataMB">, count: number, bytesPerMap: number): number {
  return Math.min(count, Math.max(1, Math.floor((cfg.maxDataMB * 1024 * 1024) / bytesPerMap)));
}

/** Keeps at most `maxDataMB` of features: a seeded random subset, in original order. */
export function capTrainingSet(features: readonly Float32Array[], cfg: DiffusionConfig, log: (line: string) => void): Float32Array[] {
  if (features.length === 0) return [];
  const per = features[0]!.byteLength;
  const keep = trainingSetSize(cfg, features.length, per);
  if (keep >= features.length) return [...features];
  const pick = Array.from(permutation(createRng(cfg.seed, KEY_SUBSET), features.length).subarray(0, keep)).sort((a, b) => a - b);
  log(`diffusion training: ${features.length} feature maps (${((features.length * per) / 2 ** 20).toFixed(0)} MB) exceed the ${cfg.maxDataMB} MB cap; training on a random subset of ${keep}`);
  return pick.map((i) => features[i]!);
}

/** Which maps make up batch `step` (a fresh permutation per epoch; the last batch wraps around). */
export function batchIndices(seed: number, step: number, n: number, batch: number): number[] {
  const perEpoch = Math.ceil(n / batch);
  const epoch = Math.floor(step / perEpoch);
  const perm = permutation(createRng(seed, KEY_EPOCH, epoch), n);
  const start = (step % perEpoch) * batch;
  return Array.from({ length: batch }, (_, j) => perm[(start + j) % n]!);
}
