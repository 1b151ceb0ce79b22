/**
 * The standardized backbone features of a whole MVTec-layout data set, split
 * as `lafite fit` splits it (held-out normals out of the bank), plus every
 * test image with its label and S×S mask: what the sweeps of bench:memory
 * and bench:budget re-score many times without running the backbone again.
 * Pixel metrics on these masks are at the S×S map, not each image's own
 * resolution as `lafite eval` does, so they rank settings; they are not the
 * eval figures.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { synthesizeRealistic } from "../../src/image/synth/realistic/index.js";
import { coresetBudget, type CandidateSampling } from "../../src/model/memory/candidates.js";
import { bankCoreset } from "../../src/model/memory/class-coreset.js";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { readMask } from "../../src/dataset/masks.js";
import { BackboneRunner, sessionOptions } from "../../src/model/backbone-runner.js";
import { resolveBackbone } from "../../src/model/backbone-source.js";
import { FeatureStatsAccumulator, standardizeInPlace, type FeatureStats } from "../../src/model/feature-stats.js";
import { pseudoRecipe, type ModelConfig } from "../../src/model/model-config.js";
import type { FeatureMap } from "../../src/model/types.js";
import { splitTraining } from "../../src/pipeline/fit.js";
import { extractPseudoFeatures, framePixels, type PseudoFeature } from "../../src/pipeline/tune/pseudo-features.js";
import { frameFitOf, maskToInput } from "../../src/image/geometry.js";
import { pseudoSamples, type PseudoRecipe } from "../../src/image/pseudo/index.js";
import { defaultCacheDir } from "../../src/cli/commands/fit.js";
import { auroc, PixelMetricAccumulator } from "../../src/measures/metrics.js";
import type { FrameScorer } from "../../src/pipeline/frame-scorer.js";

/** A test image: its features carry where the frame sits in the S×S input (`x.place`), so pixel metrics leave a border out (framePixels). */
export type SuiteTest = PseudoFeature;

export interface SuiteFeatures {
  readonly bank: FeatureMap[];
  readonly bankClasses: string[];
  readonly holdout: PseudoFeature[];
  readonly test: SuiteTest[];
  /** The pseudo-validation set fit would build (held-out normals + synthesized anomalies), when asked for. */
  readonly pseudo: PseudoFeature[];
  /** Paths of the held-out normals per class: what a pseudo-validation set is synthesized from. */
  readonly heldOut: ReadonlyMap<string, readonly string[]>;
  readonly stats: FeatureStats;
  readonly mapSize: number;
  readonly seconds: number;
}

export async function extractSuiteFeatures(data: string, config: ModelConfig, log: (m: string) => void, threads?: number, options: { pseudo?: boolean } = {}): Promise<SuiteFeatures> {
  const t0 = performance.now();
  const source = await resolveBackbone(config, defaultCacheDir());
  const backbone = await BackboneRunner.open(source.onnx, source.inputSize, sessionOptions("cpu", threads), frameFitOf(config));
  const S = backbone.inputSize;
  const one = async (path: string): Promise<{ x: FeatureMap; width: number; height: number }> => {
    const image = await decodeEncoded(await readFile(path));
    const [x] = (await backbone.run(await backbone.input(image), 1, [image])) as [FeatureMap];
    return { x, width: image.width, height: image.height };
  };
  const bank: FeatureMap[] = [];
  const bankClasses: string[] = [];
  const heldRaw: { cls: string; x: FeatureMap }[] = [];
  const heldPaths = new Map<string, string[]>();
  const testRaw: SuiteTest[] = [];
  for (const cls of await scanDataset(data)) {
    const held = new Set(splitTraining(cls, config.threshold).heldOut);
    for (const path of [...cls.train, ...cls.validation]) {
      const { x } = await one(path);
      if (held.has(path)) (heldRaw.push({ cls: cls.name, x }), heldPaths.set(cls.name, [...(heldPaths.get(cls.name) ?? []), path]));
      else (bank.push(x), bankClasses.push(cls.name));
    }
    for (const t of cls.test) {
      const { x, width, height } = await one(t.path);
      const mask = t.maskPath ? maskToInput((await readMask(t.maskPath)).mask, { width, height }, S, config.aspect) : undefined;
      testRaw.push({ cls: cls.name, anomalous: t.anomalous, x, ...(mask ? { mask } : {}) });
    }
    log(`features: ${cls.name} done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  const acc = new FeatureStatsAccumulator(bank[0]!.c);
  for (const x of bank) acc.add(x);
  const stats = acc.finish();
  for (const x of bank) standardizeInPlace(x, stats);
  for (const h of heldRaw) standardizeInPlace(h.x, stats);
  for (const t of testRaw) standardizeInPlace(t.x, stats);
  const pseudo = options.pseudo ? await pseudoFromHeldOut(backbone, heldPaths, stats, pseudoRecipe(config.tuning)) : [];
  await backbone.release();
  return {
    bank,
    bankClasses,
    holdout: heldRaw.map((h) => ({ cls: h.cls, anomalous: false, x: h.x })),
    test: testRaw,
    pseudo,
    heldOut: heldPaths,
    stats,
    mapSize: S,
    seconds: (performance.now() - t0) / 1000,
  };
}

function pseudoFromHeldOut(backbone: BackboneRunner, heldOut: ReadonlyMap<string, readonly string[]>, stats: FeatureStats, recipe: PseudoRecipe): Promise<PseudoFeature[]> {
  return extractPseudoFeatures(pseudoSamples([...heldOut].map(([name, images]) => ({ name, images })), recipe), backbone, stats);
}

/** Another pseudo-validation set from the suite's held-out normals, by another recipe (e.g. another share of seamless anomalies). */
export async function pseudoFeaturesOf(suite: SuiteFeatures, config: ModelConfig, recipe: PseudoRecipe, threads?: number): Promise<PseudoFeature[]> {
  const source = await resolveBackbone(config, defaultCacheDir());
  const backbone = await BackboneRunner.open(source.onnx, source.inputSize, sessionOptions("cpu", threads), frameFitOf(config));
  try {
    return await pseudoFromHeldOut(backbone, suite.heldOut, suite.stats, recipe);
  } finally {
    await backbone.release();
  }
}

/** Per-class image AUROC and pixel AUROC (S×S maps), and their means over classes, from one scorer's pass. */
export interface SweepScores {
  readonly imageAuroc: number;
  readonly pixelAuroc: number;
  readonly classes: Record<string, { image: number | null; pixel: number | null }>;
  readonly p50Ms: number;
}

/** Per class: image scores with their labels, and pixel AUROC over the frame's own pixels; then per-class AUROC and their means. */
export class ClassMetrics {
  private readonly byClass = new Map<string, { s: number[]; l: number[]; pixels: PixelMetricAccumulator }>();

  /** One image: its score and its S×S map (size S). */
  add(t: SuiteTest, score: number, map: Float32Array, size: number): void {
    const entry = this.byClass.get(t.cls) ?? { s: [], l: [], pixels: new PixelMetricAccumulator() };
    entry.s.push(score);
    entry.l.push(t.anomalous ? 1 : 0);
    const px = framePixels(t, map, size);
    entry.pixels.add(px.map, px.mask);
    this.byClass.set(t.cls, entry);
  }

  /** Per class image AUROC (null without both labels) and pixel AUROC (null without both pixel kinds), and their means over the classes that have them (NaN when none). */
  result(): { imageAuroc: number; pixelAuroc: number; classes: Record<string, { image: number | null; pixel: number | null }> } {
    const classes: Record<string, { image: number | null; pixel: number | null }> = {};
    for (const [cls, { s, l, pixels }] of this.byClass) {
      classes[cls] = {
        image: l.includes(0) && l.includes(1) ? auroc(s, l) : null,
        pixel: pixels.aurocOrNull(),
      };
    }
    const mean = (vs: (number | null)[]) => {
      const ok = vs.filter((v): v is number => v !== null);
      return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
    };
    return { imageAuroc: mean(Object.values(classes).map((c) => c.image)), pixelAuroc: mean(Object.values(classes).map((c) => c.pixel)), classes };
  }
}

export async function scoreSuite(test: readonly SuiteTest[], scorer: FrameScorer): Promise<SweepScores> {
  const metrics = new ClassMetrics();
  const times: number[] = [];
  for (const t of test) {
    const t0 = performance.now();
    const scored = await scorer.score(t.x);
    times.push(performance.now() - t0);
    metrics.add(t, scored.score, scored.map, Math.round(Math.sqrt(scored.map.length)));
  }
  times.sort((a, b) => a - b);
  return { ...metrics.result(), p50Ms: times[Math.floor(times.length / 2)] ?? NaN };
}

/** A comma list flag with its default. */
export function listFlag(v: string | undefined, dflt: string): string[] {
  return (v ?? dflt).split(",").map((s) => s.trim()).filter(Boolean);
}

/** --data DIR as given, or the realistic suite generated at --scale (default 0.2) into a temporary folder that `cleanup` removes. */
export async function suiteData(values: { data?: string | undefined; scale?: string | undefined }, name: string): Promise<{ data: string; cleanup(): Promise<void> }> {
  if (values.data) return { data: values.data, cleanup: async () => {} };
  const tmp = await mkdtemp(path.join(tmpdir(), `lafite-${name}-`));
  const data = path.join(tmp, "data");
  await synthesizeRealistic({ out: data, seed: 0, scale: Number(values.scale ?? 0.2), force: true });
  return { data, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

export interface BenchCoreset {
  readonly coreset: Float32Array;
  readonly count: number;
  readonly candidates: number;
  readonly selectSeconds: number;
  /** Rows taken from each class. */
  readonly classRows: Readonly<Record<string, number>>;
}

/** The coreset `lafite fit` would build from the suite's bank, or with another sampling, candidate cap, size or per-class share. */
export async function buildCoreset(
  suite: SuiteFeatures,
  config: ModelConfig,
  choice: { sampling?: CandidateSampling; candidates?: number; size?: number; perClassShare?: number } = {},
): Promise<BenchCoreset> {
  const { h, w } = suite.bank[0]!;
  const m = config.memory;
  const { candidates, count } = coresetBudget(suite.bank.length * h * w, { ...m, ...(choice.candidates ? { maxCandidates: choice.candidates } : {}), ...(choice.size ? { maxCoresetSize: choice.size, keepRate: 1 } : {}) });
  // Includes drawing and gathering the candidates (about a second at 250,000), which the time before this helper left out.
  const t0 = performance.now();
  const { coreset, classRows } = await bankCoreset(suite.bank, suite.bankClasses, { candidates, count, sampling: choice.sampling ?? m.sampling, seed: config.seed, projectionDim: m.projectionDim, perClassShare: choice.perClassShare ?? m.perClassShare });
  const selectSeconds = (performance.now() - t0) / 1000;
  return { coreset, count, candidates, selectSeconds, classRows };
}
