/**
 * Builds the FrameScorer for a scoring mode from a model's parts, the one
 * way fit (threshold calibration), eval and serving get their scorer.
 */
import type * as ort from "onnxruntime-node";
import { OnnxKnn } from "../model/memory/onnx-knn.js";
import { Reconstructor } from "../model/diffusion/index.js";
import { FrameScorer, type ContextSearch, type DetailSearch } from "./frame-scorer.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { ScoringMode } from "./types.js";
import { DIFFUSION_MODES } from "../model/types.js";
import type { ImageScoreRule } from "../model/scoring/anomaly-map.js";
import type { BundleManifest } from "../model/bundle.js";
import { bankWeightTables, DETAIL_MODES, detailInUse, rowSlice, type DetailScoring } from "../model/scoring/detail-bank.js";
import { UNTAGGED, votingClasses, type RowClasses } from "../model/memory/row-classes.js";
import { classMeanReader, type ClassMeans } from "../model/memory/class-means.js";
import type { FeatureMap } from "../model/types.js";
import { contextInUse, type ContextScoring } from "../model/scoring/context-bank.js";
import { scaledContextRows, type ContextBankRows } from "../model/memory/context-coreset.js";
import type { ScoreMemo } from "./score-memo.js";
import type { SizeTrends } from "../model/scoring/size-trend.js";
import { ClassProfile, type PositionProfiles } from "../model/scoring/position-profile.js";

export interface ScorerParts {
  /** Coreset rows, coresetSize × c. */
  readonly coreset: Float32Array;
  readonly coresetSize: number;
  readonly c: number;
  /** Exported U-Net (x, temb → eps); required by lafite and no-edit. */
  readonly unetOnnx?: Uint8Array;
  /** Each row's class: what per-class detail weights are read by (absent: the model's W for every frame). */
  readonly rowClasses?: RowClasses;
  /** Each class's mean of its frames' mean features: what a frame's class is read by, where they cover the row classes (absent: the rows' votes). */
  readonly classMeans?: ClassMeans;
  /** The context bank's rows (absent: none). */
  readonly contextBank?: ContextBankRows;
  /** A memo of the main bank's searches and passes, shared by the scorers a fit or re-tune opens over these parts (score-memo.ts); absent = none. */
  readonly memo?: ScoreMemo;
}

export interface ScorerSettings {
  readonly mapSize: number;
  readonly sigma: number;
  readonly pool: number;
  readonly imageScore?: ImageScoreRule;
  readonly top?: number;
  /** Editing neighbours K (lafite mode). */
  readonly k: number;
  readonly tau: number;
  readonly deltaT: number;
  readonly eta: number;
  /** The detail bank; searched only when some frame can get a weight above 0, and never in no-edit mode (DETAIL_MODES). */
  readonly detail?: DetailScoring;
  /** The context bank; searched only when some frame can get a weight above 0, in the modes the detail bank blends into (DETAIL_MODES). */
  readonly context?: ContextScoring;
  /** The size correction (scoring/size-trend.ts); applied only in the mode it was measured in, to frames judged as a class it has a trend for. */
  readonly sizes?: SizeTrends;
  /** The position profiles (scoring/position-profile.ts); applied only in the mode they were measured in, to frames judged as a class that has one. */
  readonly profiles?: PositionProfiles;
}

export interface OpenScorer {
  readonly scorer: FrameScorer;
  /** K actually used by the kNN pass (1 in knn mode, 0 in no-edit mode, which does not search). */
  readonly k: number;
  release(): Promise<void>;
}

export async function openScorer(mode: ScoringMode, parts: ScorerParts, s: ScorerSettings, sessionOptions: ort.InferenceSession.SessionOptions): Promise<OpenScorer> {
  if (DIFFUSION_MODES.includes(mode) && !parts.unetOnnx) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `scoring mode '${mode}' needs a diffusion model, and this bundle has none (fit with diffusion.preset other than none)`);
  }
  // knn scores by the nearest slice; lafite and edit-only edit with K neighbours; no-edit reconstructs the raw features and needs no search.
  if (parts.rowClasses && parts.rowClasses.classes.length !== parts.coresetSize) {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `${parts.rowClasses.classes.length} row classes for a bank of ${parts.coresetSize} rows`);
  }
  const k = mode === "lafite" || mode === "edit-only" ? Math.min(s.k, parts.coresetSize) : mode === "knn" ? 1 : 0;
  const knn = k > 0 ? await OnnxKnn.create(parts.coreset, parts.coresetSize, parts.c, k, sessionOptions) : undefined;
  let detail: DetailSearch | undefined;
  let context: ContextSearch | undefined;
  try {
    if (s.detail && detailInUse(s.detail) && DETAIL_MODES.includes(mode)) detail = await openDetail(mode, parts, s.detail, sessionOptions);
    if (s.context && contextInUse(s.context) && DETAIL_MODES.includes(mode)) context = await openContext(mode, parts, s.context, sessionOptions);
  } catch (err) {
    await knn?.release();
    await detail?.knn.release();
    throw err;
  }
  let reconstructor: Reconstructor | undefined;
  if (DIFFUSION_MODES.includes(mode)) reconstructor = await Reconstructor.create(parts.unetOnnx!, {}, sessionOptions);
  // A frame's corruption noise depends on its seed alone, so any memo's serves (pipeline/score-memo.ts).
  const noise = parts.memo ? (seed: number, size: number) => parts.memo!.noise(seed, size) : undefined;
  // The memo serves only scorers over the bank it indexes, at a K its searches reach.
  const memo = parts.memo && parts.memo.coreset === parts.coreset && k <= parts.memo.kMax ? { memo: parts.memo, setting: { mode, k, tau: s.tau, deltaT: s.deltaT, eta: s.eta } } : undefined;
  // Looked up by the judged class's index: classes the bank does not name get none.
  const sizes = s.sizes && s.sizes.mode === mode && parts.rowClasses ? parts.rowClasses.names.map((name) => s.sizes!.classes[name]) : undefined;
  const profiles = s.profiles && s.profiles.mode === mode && parts.rowClasses ? parts.rowClasses.names.map((name) => profileOf(s.profiles!, name, s.mapSize)) : undefined;
  const scorer = new FrameScorer(
    { mode, mapSize: s.mapSize, sigma: s.sigma, pool: s.pool, ...(s.imageScore ? { imageScore: s.imageScore } : {}), ...(s.top !== undefined ? { top: s.top } : {}), k },
    knn,
    parts.coreset,
    reconstructor ? { reconstruct: (e, seed) => reconstructor!.reconstruct(e, s.tau, s.deltaT, s.eta, seed, noise) } : undefined,
    detail,
    parts.rowClasses ? classReading(parts.rowClasses, parts.classMeans) : undefined,
    context,
    memo,
    sizes?.some((t) => t !== undefined) ? sizes : undefined,
    profiles?.some((p) => p !== undefined) ? profiles : undefined,
  );
  return {
    scorer,
    k,
    async release() {
      await knn?.release();
      await detail?.knn.release();
      await context?.knn.release();
      await reconstructor?.close();
    },
  };
}

/** What a frame's class is read by: the class means where they know every class the rows vote for, else the votes alone. */
function classReading(rowClasses: RowClasses, means: ClassMeans | undefined): { rowClass: Int32Array; names: readonly string[]; read?: (x: FeatureMap) => number } {
  const rowClass = votingClasses(rowClasses);
  const voting = rowClasses.names.filter((name) => name !== UNTAGGED);
  const read = means ? classMeanReader(means, rowClasses.names, voting) : undefined;
  return { rowClass, names: rowClasses.names, ...(read ? { read } : {}) };
}

/** The detail bank's search: the nearest of the main rows' detail channels. */
async function openDetail(mode: ScoringMode, parts: ScorerParts, d: DetailScoring, sessionOptions: ort.InferenceSession.SessionOptions): Promise<DetailSearch> {
  const main = d.normalizers?.main[mode];
  if (!d.normalizers || !main) throw new LafiteError(ErrorCode.BAD_BUNDLE, `the detail bank (weight ${d.weight}) has no normalizer for mode '${mode}': re-tune the bundle (lafite tune) to score in this mode`);
  const [lo, hi] = d.channels;
  const knn = await OnnxKnn.create(rowSlice(parts.coreset, parts.coresetSize, parts.c, d.channels), parts.coresetSize, hi - lo, 1, sessionOptions);
  return { knn, channels: d.channels, weight: d.weight, main, detail: d.normalizers.detail, ...(parts.rowClasses ? bankWeightTables(parts.rowClasses.names, d) : {}) };
}

/** The context bank's search: its own rows (memory/context-coreset.ts), each with λ times its frame's context appended. */
async function openContext(mode: ScoringMode, parts: ScorerParts, cs: ContextScoring, sessionOptions: ort.InferenceSession.SessionOptions): Promise<ContextSearch> {
  const main = cs.normalizers?.main[mode];
  if (!cs.normalizers || !main) throw new LafiteError(ErrorCode.BAD_BUNDLE, `the context bank has no normalizer for mode '${mode}': re-tune the bundle (lafite tune) to score in this mode`);
  const bank = parts.contextBank;
  if (!bank) throw new LafiteError(ErrorCode.BAD_BUNDLE, "the context bank is in use but the bundle holds no context rows");
  const knn = await OnnxKnn.create(scaledContextRows(bank, cs.lambda), bank.size, bank.c + bank.channels[1] - bank.channels[0], 1, sessionOptions);
  return { knn, channels: bank.channels, lambda: cs.lambda, weight: cs.weight, main, context: cs.normalizers.context, ...(parts.rowClasses ? bankWeightTables(parts.rowClasses.names, cs) : {}) };
}

/** A bundle's scoring settings as the scorer takes them; `fallback` fills τ, Δt and η for bundles without a diffusion model. */
export function scorerSettingsOf(m: BundleManifest, fallback: { tau: number; deltaT: number; eta: number } = { tau: 0, deltaT: 1, eta: 0 }): ScorerSettings {
  const sc = m.scoring;
  return {
    mapSize: m.backbone.inputSize,
    sigma: sc.sigma,
    pool: sc.pool,
    ...(sc.imageScore ? { imageScore: sc.imageScore } : {}),
    ...(sc.top !== undefined ? { top: sc.top } : {}),
    k: sc.k,
    tau: sc.tau ?? fallback.tau,
    deltaT: sc.deltaT ?? fallback.deltaT,
    eta: sc.eta ?? fallback.eta,
    ...(sc.detail ? { detail: sc.detail } : {}),
    ...(sc.context ? { context: sc.context } : {}),
    ...(sc.sizes ? { sizes: sc.sizes } : {}),
    ...(sc.profiles ? { profiles: sc.profiles } : {}),
  };
}

/** A class's served profile, none when the profiles hold no such class. */
function profileOf(p: PositionProfiles, cls: string, mapSize: number): ClassProfile | undefined {
  const rec = p.classes[cls];
  return rec ? new ClassProfile(rec, p.grid, mapSize, p.coords ?? "input") : undefined;
}
