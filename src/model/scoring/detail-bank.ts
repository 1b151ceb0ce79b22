/**
 * The detail bank: a second nearest-neighbour search over the fine stages'
 * channels of the same coreset rows, blended into the main position scores.
 *
 * Why: the coarse stage decides logical anomalies (a missing part looks like
 * plain plate to the fine stages), while thin lines and fine textures stand
 * out most in the fine stages alone, where the coarse channels dilute them.
 * Two searches let each kind of evidence count where it is strongest without
 * knowing the frame's class. The detail rows are the main rows' own fine
 * channels: no second selection at fit, and a lifecycle refresh that grows or
 * consolidates the main bank updates the detail bank with it.
 *
 * Each bank's position scores are standardized by the held-out normals' mean
 * and deviation, blended with weight W, and mapped back into the main bank's
 * units (so W = 0 gives exactly the main scores, and heatmaps and thresholds
 * keep their scale):
 *   s = μ_m + σ_m·((1 − W)·(m − μ_m)/σ_m + W·(d − μ_d)/σ_d), clamped at 0.
 * The main bank's scores differ by mode, so each mode has its own μ_m, σ_m.
 * W is chosen on the pseudo-validation set (pipeline/tune/detail-weight.ts);
 * a lifecycle refresh or retrain keeps W and measures the normalizers again.
 *
 * W may also be chosen per class: fine textures gain from the detail bank
 * where a class whose defects are logical loses, so one W for a unified
 * model trades one against the other. A frame then gets the W of its class,
 * read off the main bank's rows its positions find nearest, the letterbox
 * border's positions abstaining (memory/row-classes.ts frameClass); a class
 * without its own W, or a bank without row classes, gets the model's W.
 */
import type { FeatureMap, ScoringMode } from "../types.js";
import { invalidInput } from "../../util/errors.js";

/**
 * The modes the detail bank blends into: those that search the memory bank.
 * no-edit stays the diffusion model alone, the ablation it exists for.
 */
export const DETAIL_MODES: readonly ScoringMode[] = ["knn", "edit-only", "lafite"];

/** Mean and standard deviation of a bank's position scores over held-out normals. */
export interface ScoreNormalizer {
  readonly mean: number;
  readonly sd: number;
}

/** Channels [lo, hi) of the concatenated features that the detail bank searches. */
export type ChannelRange = readonly [number, number];

/** How a model blends its detail bank in (the manifest's scoring.detail). */
export interface DetailScoring {
  /** The backbone stages whose channels the detail bank searches. */
  readonly stages: readonly string[];
  readonly channels: ChannelRange;
  /** W; 0 = the main bank alone (the detail bank is not searched). */
  readonly weight: number;
  /** The detail bank's position scores over held-out normals, and the main bank's in each mode (its scores differ by mode). */
  readonly normalizers?: { readonly detail: ScoreNormalizer; readonly main: Partial<Record<ScoringMode, ScoreNormalizer>> };
  /** W per class name (the bank's row classes), chosen on the pseudo-validation set; absent, or a class not named: `weight`. */
  readonly classWeights?: Readonly<Record<string, number>>;
  /**
   * The image score's W per class, where it differs from the heatmap's (classWeights): chosen on the set alone where warped
   * edges (tuning.warps) chose the heatmap's, so they move the heatmap and never a verdict. Absent, or a class not named: classWeights'.
   */
  readonly imageClassWeights?: Readonly<Record<string, number>>;
}

/** A bank's weights as the detail and context banks both keep them: the model's, the heatmap's per class, and the image score's where they differ. */
export interface BankWeights {
  readonly weight: number;
  readonly classWeights?: Readonly<Record<string, number>>;
  readonly imageClassWeights?: Readonly<Record<string, number>>;
}

/** The image score's W per class: classWeights overlaid with imageClassWeights (undefined when neither names a class). */
export function imageClassWeightsOf(b: Pick<BankWeights, "classWeights" | "imageClassWeights">): Readonly<Record<string, number>> | undefined {
  return b.classWeights || b.imageClassWeights ? { ...b.classWeights, ...b.imageClassWeights } : undefined;
}

/** Whether any frame can get a W above 0, for its heatmap or its image score: the bank needs searching at all. */
export function anyWeightInUse(b: BankWeights | undefined): boolean {
  return b !== undefined && (b.weight > 0 || [...Object.values(b.classWeights ?? {}), ...Object.values(b.imageClassWeights ?? {})].some((w) => w > 0));
}

/** W by class index of `names` (the bank's row classes): a class's own W, else `fallback`. */
export function classWeightTable(names: readonly string[], classWeights: Readonly<Record<string, number>> | undefined, fallback: number): Float64Array {
  return Float64Array.from(names, (n) => classWeights?.[n] ?? fallback);
}

/**
 * A bank's per-class weights as tables by class index of `names` (classWeightTable, `weight` for a class not named), as
 * a scorer reads them: the heatmap's where the bank names classes, and the image score's where some class has its own.
 */
export function bankWeightTables(names: readonly string[], b: BankWeights): { classWeights?: Float64Array; imageClassWeights?: Float64Array } {
  return {
    ...(b.classWeights ? { classWeights: classWeightTable(names, b.classWeights, b.weight) } : {}),
    ...(b.imageClassWeights ? { imageClassWeights: classWeightTable(names, imageClassWeightsOf(b), b.weight) } : {}),
  };
}

/** Whether any frame can get a W above 0: the detail bank needs searching at all. */
export function detailInUse(d: DetailScoring | undefined): boolean {
  return anyWeightInUse(d);
}

export function normalizerOf(maps: readonly Float32Array[]): ScoreNormalizer {
  let n = 0;
  let s = 0;
  for (const m of maps) for (const v of m) (s += v), n++;
  if (n === 0) throw invalidInput("no position scores to normalize by");
  const mean = s / n;
  let s2 = 0;
  for (const m of maps) for (const v of m) s2 += (v - mean) * (v - mean);
  // A constant score (a degenerate bank) must not divide by zero; any positive scale ranks the same.
  const sd = Math.sqrt(s2 / n);
  return { mean, sd: sd > 0 ? sd : 1 };
}

/** The blend of the header, per position; `main` and `detail` are the same grid. */
export function blendPositionScores(main: Float32Array, detail: Float32Array, weight: number, nMain: ScoreNormalizer, nDetail: ScoreNormalizer): Float32Array {
  if (main.length !== detail.length) throw invalidInput(`main (${main.length}) and detail (${detail.length}) position scores differ in size`);
  if (!(weight >= 0 && weight <= 1)) throw invalidInput(`detail weight ${weight} must be in [0, 1]`);
  const out = new Float32Array(main.length);
  const a = 1 - weight;
  const b = (weight * nMain.sd) / nDetail.sd;
  // μ_m + σ_m((1−W)(m−μ_m)/σ_m + W(d−μ_d)/σ_d) = (1−W)·m + W·μ_m + b·(d − μ_d)
  const c = weight * nMain.mean - b * nDetail.mean;
  for (let i = 0; i < main.length; i++) out[i] = Math.max(0, a * main[i]! + b * detail[i]! + c);
  return out;
}

/** Channels [lo, hi) of a CHW map (a contiguous block). */
export function channelSlice(x: FeatureMap, [lo, hi]: ChannelRange): FeatureMap {
  if (lo === 0 && hi === x.c) return x;
  const plane = x.h * x.w;
  return { c: hi - lo, h: x.h, w: x.w, data: x.data.subarray(lo * plane, hi * plane) };
}

/** Columns [lo, hi) of n row-major rows of c values: the detail bank's rows. */
export function rowSlice(rows: Float32Array, n: number, c: number, [lo, hi]: ChannelRange): Float32Array {
  if (rows.length !== n * c) throw invalidInput(`rows hold ${rows.length} values, not ${n}×${c}`);
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= c)) throw invalidInput(`channel range [${lo}, ${hi}) is not inside [0, ${c})`);
  const out = new Float32Array(n * (hi - lo));
  for (let i = 0; i < n; i++) out.set(rows.subarray(i * c + lo, i * c + hi), i * (hi - lo));
  return out;
}

/** Channel range of a contiguous run of stages, from each stage's width in the backbone's order. */
export function stageChannelRange(stages: readonly string[], widths: readonly number[], run: readonly string[]): ChannelRange {
  if (stages.length !== widths.length) throw invalidInput(`${stages.length} stages but ${widths.length} stage widths`);
  const first = stages.indexOf(run[0] ?? "");
  if (run.length === 0 || first < 0 || run.some((s, i) => stages[first + i] !== s)) {
    throw invalidInput(`detail stages [${run.join(", ")}] are not a run of the backbone's stages [${stages.join(", ")}] in their order`);
  }
  if (run.length === stages.length) throw invalidInput(`detail stages [${run.join(", ")}] are all the backbone's stages: the detail bank would repeat the main one`);
  const lo = widths.slice(0, first).reduce((a, v) => a + v, 0);
  return [lo, lo + widths.slice(first, first + run.length).reduce((a, v) => a + v, 0)];
}
