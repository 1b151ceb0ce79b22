/**
 * Loading a bundle into a ready Detector, and the daemon's embedded default
 * bundle (made on first start from the demo data set).
 */
import { access, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readBundle, bytesToFloat32, rowPartsOf, storedClassMeans, type LoadedBundle, type ThresholdInfo } from "../model/bundle.js";
import { lookRatioReader, reachedClasses } from "../model/memory/class-means.js";
import { BackboneRunner, sessionOptions } from "../model/backbone-runner.js";
import { FaissIndex } from "../model/memory/faiss-index.js";
import { openScorer, scorerSettingsOf } from "./open-scorer.js";
import type { DecodeLimits } from "../image/decode.js";
import { resolveExecutionProvider } from "../model/execution-provider.js";
import { ddimTimesteps } from "../model/diffusion/index.js";
import { BundleDetector, type TileScoring } from "./bundle-detector.js";
import { tileBundleOf, tilingProblem } from "../model/tiling.js";
import { parseModelConfig } from "../model/model-config.js";
import { fitModel } from "./fit.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { ScoringMode } from "./types.js";
import { DIFFUSION_MODES } from "../model/types.js";
import { DETAIL_MODES, detailInUse, type DetailScoring } from "../model/scoring/detail-bank.js";
import { contextInUse, type ContextScoring } from "../model/scoring/context-bank.js";
import type { EdgeProfiles } from "../model/scoring/edge-profile.js";
import { sizeTrendsProblem, type SizeTrends } from "../model/scoring/size-trend.js";
import { positionProfilesProblem, type PositionProfiles } from "../model/scoring/position-profile.js";
import type { ImageScoreRule } from "../model/scoring/anomaly-map.js";
import { frameFitOf } from "../image/geometry.js";

export interface LoadOptions {
  executionProvider?: "cpu" | "cuda";
  intraOpThreads?: number;
  log?: (msg: string) => void;
  /** Score with another mode than the bundle's (eval --mode). */
  mode?: ScoringMode;
  /** Decoding limits for served frames (the daemon's limits.maxPixels). */
  limits?: DecodeLimits;
  /** Override the bundle's τ, Δt, η, editing K, map blur σ, image-score rule or detail-bank weight (hyperparameter sweeps). */
  overrides?: { tau?: number; deltaT?: number; eta?: number; k?: number; sigma?: number; imageScore?: ImageScoreRule; detailWeight?: number; contextWeight?: number };
  /** false: serve the maps without the edge correction (eval --no-edge-correction). It applies only in the mode it was measured in, and without overrides other than the image-score rule (their maps are not the ones it was measured on). */
  edgeCorrection?: boolean;
  /** false: score without the size correction (eval --no-size-correction); image scores and verdicts change with it. It applies only in the mode it was measured in. */
  sizeCorrection?: boolean;
  /** false: score without the position profiles (eval --no-position-profile); image scores and verdicts change with it. They apply only in the mode they were measured in. */
  positionProfile?: boolean;
  /**
   * A frame whose look ratio (its mean features' distance from the mean of the class it reads as, in units of that
   * class's reach) is above this is NG, like none of the model's classes; 0: never (the ratio is still reported).
   * Default DEFAULT_UNLIKE_MARGIN; the daemon's model.unlikeMargin.
   */
  unlikeMargin?: number;
  /** false: score every frame whole, its class's tiles left unscored (eval --no-tiling); default: as the bundle says (model/tiling.ts). */
  tiling?: boolean;
}

/**
 * The default unlike margin. On the realistic suite every good test frame lay within 1.03 reaches of its class's
 * mean, and every defect within 1.33; an empty backlit station (a uniform frame), one of noise, a frame blurred
 * out of focus or a sheet under a fifth of its light read as a class at 1.6–14 reaches.
 */
export const DEFAULT_UNLIKE_MARGIN = 1.5;

export async function loadDetector(bundleDir: string, options: LoadOptions = {}): Promise<BundleDetector> {
  const bundle = await readBundle(bundleDir);
  return detectorFromBundle(bundle, options);
}

export async function detectorFromBundle(bundle: LoadedBundle, options: LoadOptions = {}): Promise<BundleDetector> {
  const m = bundle.manifest;
  const mode = options.mode ?? m.scoring.mode;
  const ep = await resolveExecutionProvider(options.executionProvider ?? "cpu", options.log);
  const opts = sessionOptions(ep, options.intraOpThreads);
  // Checked before anything is opened: a malformed profile refuses the bundle.
  // The image-score rule reads the same maps; every other override changes them.
  const mapOverrides = Object.keys(options.overrides ?? {}).filter((k) => k !== "imageScore");
  const measuredEdges = options.edgeCorrection !== false && mapOverrides.length === 0 ? servedEdges(m.scoring.edges, mode, bundle.dir) : undefined;
  const { c, h, w } = m.features;
  const coreset = bytesToFloat32(bundle.file(m.memory.vectorsFile));
  if (coreset.length !== m.memory.coresetSize * c) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${bundle.dir}: coreset has ${coreset.length} values, manifest says ${m.memory.coresetSize}×${c}`);
  }
  // The FAISS index is the index of record: check it opens and agrees with the manifest.
  const index = FaissIndex.fromBuffer(Buffer.from(bundle.file(m.memory.indexFile)), c, m.memory.indexType);
  if (index.size !== m.memory.coresetSize) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${bundle.dir}: FAISS index holds ${index.size} vectors, manifest says ${m.memory.coresetSize}`);
  const backbone = await BackboneRunner.open(bundle.file(m.backbone.file), m.backbone.inputSize, opts, frameFitOf(m.backbone));
  if (backbone.shape.c !== c || backbone.shape.h !== h || backbone.shape.w !== w) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${bundle.dir}: backbone yields ${backbone.shape.c}×${backbone.shape.h}×${backbone.shape.w}, manifest says ${c}×${h}×${w}`);
  }
  const sizes = options.sizeCorrection !== false ? servedSizes(m.scoring.sizes, mode, bundle.dir) : undefined;
  const profiles = options.positionProfile !== false ? servedProfiles(m.scoring.profiles, mode, bundle.dir) : undefined;
  const edges = withoutProfiled(measuredEdges, profiles);
  const margin = options.unlikeMargin ?? DEFAULT_UNLIKE_MARGIN;
  if (!Number.isFinite(margin) || margin < 0) throw new LafiteError(ErrorCode.INVALID_CONFIG, `unlike margin ${margin} is not a finite number ≥ 0`);
  // Bundles fitted before class reaches get no gate.
  const means = storedClassMeans(bundle);
  const ratio = means ? lookRatioReader(means) : undefined;
  const look = ratio ? { ratio, margin } : undefined;
  checkBankWeights(m.scoring.context, bundle.dir);
  const { detailWeight, contextWeight, ...overrides } = options.overrides ?? {};
  const { sizes: _checkedAbove, profiles: _checkedToo, ...scoring } = m.scoring;
  const sc = { ...scoring, ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}), ...overrides, ...(detailWeight !== undefined ? { detail: atOneWeight(m.scoring.detail, detailWeight, "detail") } : {}), ...(contextWeight !== undefined ? { context: atOneWeight(m.scoring.context, contextWeight, "context") } : {}) };
  const opened = await openScorer(
    mode,
    { coreset, coresetSize: m.memory.coresetSize, c, ...(sc.denoiserFile ? { unetOnnx: bundle.file(sc.denoiserFile) } : {}), ...rowPartsOf(bundle) },
    scorerSettingsOf({ ...m, scoring: sc }),
    opts,
  ).catch(async (err: unknown) => {
    await backbone.release();
    throw err instanceof LafiteError ? new LafiteError(err.code, `bundle ${bundle.dir}: ${err.message}`) : err;
  });
  // A tiled class's frame threshold and the map units its tiles are combined by were measured with the whole model in
  // its served mode: scored in another mode its maps are in other units, so its frames are scored whole (as the edge
  // correction, size correction and position profiles apply only in their own mode).
  const tiled = options.tiling !== false && mode === m.scoring.mode;
  if (options.tiling !== false && !tiled && m.tiling && Object.keys(m.tiling.classes).length > 0) options.log?.(`bundle ${bundle.dir}: scored in ${mode} mode, not its own ${m.scoring.mode}: ${Object.keys(m.tiling.classes).join(", ")} scored whole, without tiles (their units were measured in ${m.scoring.mode} mode)`);
  const tiles = tiled ? await tileScorings(bundle, options).catch(async (err: unknown) => {
    await opened.release();
    await backbone.release();
    throw err;
  }) : undefined;
  const k = opened.k;
  const thresholdInfo = m.thresholds?.[mode] ?? (mode === sc.mode ? m.threshold : undefined);
  const threshold = thresholdInfo?.value;
  if (thresholdInfo === undefined || threshold === undefined) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${bundle.dir}: no threshold calibrated for mode '${mode}'`);
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  // Per-class weights as the log lists them: "kit 1, nut 0.5".
  const byClass = (weights: Readonly<Record<string, number>>) => Object.entries(weights).map(([cls, w]) => `${cls} ${w}`).join(", ");
  options.log?.(`model ${m.version} loaded from ${bundle.dir}: ${m.backbone.name}, ${c}×${h}×${w}, coreset ${m.memory.coresetSize}${sc.detail && detailInUse(sc.detail) ? ` (detail bank [${sc.detail.stages.join(", ")}] at W ${sc.detail.weight}${sc.detail.classWeights ? `; per class ${byClass(sc.detail.classWeights)}` : ""}${sc.detail.imageClassWeights ? `; image score ${byClass(sc.detail.imageClassWeights)}` : ""})` : ""}${sc.context && contextInUse(sc.context) ? ` (context bank, λ ${sc.context.lambda}, W ${byClass(Object.fromEntries(Object.entries(sc.context.classWeights ?? {}).filter(([, w]) => w > 0))) || sc.context.weight}${sc.context.imageClassWeights ? `; image score ${byClass(sc.context.imageClassWeights)}` : ""})` : ""}, mode ${mode}${edges ? `, edge correction for ${Object.keys(edges.classes).join(", ")}` : ""}${sizes ? `, size correction for ${Object.keys(sizes.classes).join(", ")}` : ""}${profiles ? `, position profile for ${Object.keys(profiles.classes).join(", ")}` : ""}${m.memory.rowClasses ? `, classes read by ${m.memory.classMeans ? "their means" : "the bank rows' votes (fitted before class means)"}` : ""}${look ? (margin > 0 ? `, a frame over ${margin} reaches from its class's look NG` : ", the look gate off") : ""}${tiles ? `, scored in tiles too: ${[...tiles].map(([cls, t]) => `${cls} ${t.grid}×${t.grid}`).join(", ")}` : ""}, execution provider ${ep}`);
  return new BundleDetector(
    {
      version: m.version,
      backbone: m.backbone.name,
      featureShape: [c, h, w],
      coresetSize: m.memory.coresetSize,
      mode,
      threshold,
      classes: mode === "no-edit" ? [] : opened.scorer.classNames,
      ...(mode !== "no-edit" && m.memory.classMeans?.alike ? { alikeClasses: m.memory.classMeans.alike } : {}),
      ...(thresholdInfo.classes ? { classThresholds: Object.fromEntries(Object.entries(thresholdInfo.classes).map(([cls, t]) => [cls, t.value])) } : {}),
      ...leftOutCounts(thresholdInfo.classes),
      thresholdRule: thresholdInfo.rule ?? "normal-quantile",
      thresholdMethod: thresholdInfo.method,
      executionProvider: ep,
      inputSize: m.backbone.inputSize,
      ...(mode === "lafite" || mode === "edit-only" ? { k } : {}),
      ...(sc.tau !== undefined && DIFFUSION_MODES.includes(mode) ? { tau: sc.tau, deltaT: sc.deltaT ?? 1, steps: ddimTimesteps(sc.tau, sc.deltaT ?? 1).length } : {}),
      ...(sc.detail && sc.detail.weight > 0 ? { detailWeight: sc.detail.weight } : {}),
      ...(sc.detail?.classWeights ? { detailClassWeights: sc.detail.classWeights } : {}),
      ...(sc.detail?.imageClassWeights ? { detailImageClassWeights: sc.detail.imageClassWeights } : {}),
      ...(edges ? { edgeCorrectedClasses: Object.keys(edges.classes) } : {}),
      ...(sizes ? { sizeCorrectedClasses: Object.keys(sizes.classes) } : {}),
      ...(profiles ? { profiledClasses: Object.keys(profiles.classes) } : {}),
      ...(means && look && look.margin > 0 ? { unlikeMargin: look.margin, lookGatedClasses: reachedClasses(means) } : {}),
      ...(tiles ? { tiledClasses: Object.fromEntries([...tiles].map(([cls, t]) => [cls, { grid: t.grid, overlap: t.overlap, frameThreshold: t.frameThreshold, mode: t.detector.info.mode, mapOnly: t.mapOnly }])) } : {}),
      ...(DETAIL_MODES.includes(mode) && sc.context && contextInUse(sc.context) ? { context: { lambda: sc.context.lambda, weight: sc.context.weight, classWeights: { ...sc.context.classWeights }, ...(sc.context.imageClassWeights ? { imageClassWeights: { ...sc.context.imageClassWeights } } : {}) } } : {}),
    },
    backbone,
    stats,
    opened.scorer,
    async () => {
      await opened.release();
      await backbone.release();
    },
    options.limits,
    edges,
    look,
    tiles,
  );
}

/**
 * The tile detectors of a bundle's tiled classes (model/tiling.ts), each over the tile bundle stored in it, scoring
 * in that bundle's own mode (its frame threshold was measured there) whatever mode the parent serves; undefined: none.
 */
async function tileScorings(bundle: LoadedBundle, options: LoadOptions): Promise<Map<string, TileScoring> | undefined> {
  const tiling = bundle.manifest.tiling;
  if (!tiling || Object.keys(tiling.classes).length === 0) return undefined;
  const problem = tilingProblem(tiling);
  if (problem) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${bundle.dir}: ${problem}`);
  const out = new Map<string, TileScoring>();
  try {
    for (const [cls, t] of Object.entries(tiling.classes)) {
      const detector = await detectorFromBundle(tileBundleOf(bundle, cls), { ...(options.executionProvider ? { executionProvider: options.executionProvider } : {}), ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}), ...(options.limits ? { limits: options.limits } : {}) });
      out.set(cls, { detector, grid: t.grid, overlap: t.overlap, frameThreshold: t.frameThreshold, mapOnly: t.mapOnly ?? false, ...(t.pixelUnits ? { pixelUnits: t.pixelUnits } : {}) });
    }
  } catch (err) {
    for (const t of out.values()) await t.detector.close();
    throw err;
  }
  return out;
}

/**
 * The edge correction of the classes without a served position profile: a profiled class's heatmap is served in its
 * profile's units, its normals' mean and spread at every place, edges included (FrameScorer's profiledMap).
 */
function withoutProfiled(edges: EdgeProfiles | undefined, profiles: PositionProfiles | undefined): EdgeProfiles | undefined {
  if (!edges || !profiles) return edges;
  const classes = Object.fromEntries(Object.entries(edges.classes).filter(([cls]) => profiles.classes[cls] === undefined));
  return Object.keys(classes).length > 0 ? { ...edges, classes } : undefined;
}

/** The bundle's position profiles when they apply to `mode`, checked (position-profile.ts positionProfilesProblem). */
function servedProfiles(profiles: PositionProfiles | undefined, mode: ScoringMode, dir: string): PositionProfiles | undefined {
  if (!profiles || profiles.mode !== mode) return undefined;
  const problem = positionProfilesProblem(profiles);
  if (problem) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: ${problem}`);
  return profiles;
}

/** The bundle's size correction when it applies to `mode`, checked (size-trend.ts sizeTrendsProblem). */
function servedSizes(sizes: SizeTrends | undefined, mode: ScoringMode, dir: string): SizeTrends | undefined {
  if (!sizes || sizes.mode !== mode) return undefined;
  const problem = sizeTrendsProblem(sizes);
  if (problem) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: ${problem}`);
  return sizes;
}

/** A context bank's weights, checked: each a number from 0 to 1 (a hand-edited manifest would otherwise score NaN). */
function checkBankWeights(context: ContextScoring | undefined, dir: string): void {
  if (!context) return;
  const fields = { weight: { "": context.weight }, classWeights: context.classWeights ?? {}, imageClassWeights: context.imageClassWeights ?? {} };
  for (const [field, weights] of Object.entries(fields)) {
    for (const [cls, w] of Object.entries(weights)) {
      if (!(typeof w === "number" && w >= 0 && w <= 1)) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: scoring.context.${field}${cls ? `.${cls}` : ""} is ${JSON.stringify(w)}, not a weight from 0 to 1`);
    }
  }
}

/** The bundle's edge correction when it applies to `mode`, checked: a profile per class, reach + 1 finite values. */
function servedEdges(edges: EdgeProfiles | undefined, mode: ScoringMode, dir: string): EdgeProfiles | undefined {
  if (!edges || edges.mode !== mode) return undefined;
  if (!(Number.isInteger(edges.reach) && edges.reach >= 0 && edges.reach <= 1000)) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: scoring.edges.reach ${edges.reach} is not an integer in 0..1000`);
  for (const [cls, p] of Object.entries(edges.classes)) {
    if (!Array.isArray(p) || p.length !== edges.reach + 1 || !p.every((v) => typeof v === "number" && Number.isFinite(v))) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: scoring.edges.classes.${cls} is not ${edges.reach + 1} finite numbers`);
  }
  return edges;
}

/** The bundle's detail or context bank at another weight; only 0 needs no bank, any other weight its normalizers. */
function atOneWeight<B extends DetailScoring | ContextScoring>(bank: B | undefined, weight: number, what: "detail" | "context"): B | undefined {
  if (weight > 0 && !bank?.normalizers) throw new LafiteError(ErrorCode.INVALID_INPUT, `${what} weight ${weight}: this bundle has no measured ${what} bank (fitted before it, or without tuning); refit or re-tune it (lafite tune)`);
  if (!bank) return undefined;
  // One W for every frame, heatmap and image score alike: the per-class weights give way.
  // The cast names both per-class fields a bank of either kind may carry; the rest (normalizers, λ) is copied as it is.
  const { classWeights: _perClass, imageClassWeights: _image, ...one } = bank as DetailScoring & Partial<Pick<ContextScoring, "imageClassWeights">>;
  return { ...one, weight } as B;
}

/**
 * The daemon's embedded default: `<dataDir>/bundles/default`. When absent,
 * makes the demo data set (`<dataDir>/demo`) and fits the default model on it.
 */
export async function ensureDefaultBundle(dataDir: string, options: { signal?: AbortSignal; log?: (msg: string) => void; cacheDir?: string } = {}): Promise<string> {
  const bundleDir = join(dataDir, "bundles", "default");
  const exists = await access(join(bundleDir, "manifest.json")).then(() => true, () => false);
  if (exists) return bundleDir;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  await mkdir(dataDir, { recursive: true });
  const demo = join(dataDir, "demo");
  log(`no model in ${bundleDir}: making the demo data set in ${demo} and fitting the default model (first start only)`);
  const { synthesizeDataset } = await import("../image/synth/index.js");
  await synthesizeDataset({ out: demo, seed: 1, force: true, onProgress: (p) => log(p.line), ...(options.signal ? { signal: options.signal } : {}) });
  await fitModel({
    data: demo,
    out: bundleDir,
    // The small diffusion preset keeps the first start within its budget; `lafite fit` defaults to the cpu preset.
    config: parseModelConfig({ diffusion: { preset: "tiny" } }),
    cacheDir: options.cacheDir ?? join(dataDir, "cache"),
    force: true,
    ...(options.signal ? { signal: options.signal } : {}),
    log,
    progressSink: log,
  });
  return bundleDir;
}

/** ModelInfo.classLeftOutImages from a threshold's classes (absent when no class used left-out bank images). */
function leftOutCounts(classes: ThresholdInfo["classes"]): { classLeftOutImages?: Record<string, number> } {
  const counts = Object.entries(classes ?? {}).flatMap(([cls, t]) => (t.leftOutImages ? [[cls, t.leftOutImages] as const] : []));
  return counts.length ? { classLeftOutImages: Object.fromEntries(counts) } : {};
}
