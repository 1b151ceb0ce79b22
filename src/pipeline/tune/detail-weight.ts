/**
 * The detail bank's weight W (model/scoring/detail-bank.ts), chosen on the
 * pseudo-validation set at the already chosen τ, K and image-score rule.
 *
 * Each mode's main position scores and the detail bank's are computed once;
 * the normalizers come from the set's held-out normals, and every W of the
 * grid is a blend of the same scores, so the sweep costs one pass per mode
 * (which threshold calibration would spend anyway: it gets the image scores
 * at the chosen W back) plus one detail search per image.
 *
 * Why it is chosen and not fixed: the detail bank lifts fine textures and
 * thin defects and costs logical anomalies (a missing part is plain ground to
 * the fine stages). The set's logical anomalies (tuning.logical) see that
 * cost as the real ones do, so the set can decide, and W = 0 (first in the
 * grid, kept on ties) serves the main bank alone.
 */
import type * as ort from "onnxruntime-node";
import type { TuningRecord } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { anomalyMap, imageScoreOf } from "../../model/scoring/anomaly-map.js";
import { blendPositionScores, channelSlice, DETAIL_MODES, normalizerOf, rowSlice, type ChannelRange, type DetailScoring, type ScoreNormalizer } from "../../model/scoring/detail-bank.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { seedOfFeatures } from "../frame-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { ClassPixelAuroc, meanClassAuroc } from "./score-set.js";
import { bestPointIndex } from "./best-point.js";

export interface DetailTuneInput {
  readonly set: readonly PseudoFeature[];
  readonly parts: ScorerParts;
  /** The chosen settings, without a detail bank. */
  readonly settings: ScorerSettings;
  /** Every mode the model gets a threshold for: each needs its main normalizer and its image scores at the chosen W. */
  readonly modes: readonly ScoringMode[];
  /** The mode whose pseudo-validation AUROC chooses W. */
  readonly servedMode: ScoringMode;
  readonly stages: readonly string[];
  readonly channels: ChannelRange;
  /** The W grid; one weight = no sweep (fit --no-tune: the configured W). */
  readonly weights: readonly number[];
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** Called after each scoring too, for callers that count their own progress (lifecycle jobs). */
  readonly onScored?: () => void;
  readonly log?: (msg: string) => void;
}

export interface DetailTuneResult {
  readonly detail: DetailScoring;
  /** The sweep, when the grid had more than one weight. */
  readonly record?: NonNullable<TuningRecord["detail"]>;
  /** The set's image scores at the chosen W, per detail mode: threshold calibration need not score the set again in those. */
  readonly scored: readonly { readonly mode: ScoringMode; readonly scores: readonly number[] }[];
}

/** How many scorings tuneDetailWeight does for a set and the modes asked for (its progress total). */
export function detailTuneWork(setSize: number, modes: readonly ScoringMode[]): number {
  return setSize * (modes.filter((m) => DETAIL_MODES.includes(m)).length + 1);
}

export async function tuneDetailWeight(input: DetailTuneInput): Promise<DetailTuneResult> {
  const { set, parts, settings, channels } = input;
  // no-edit gets no detail bank (DETAIL_MODES): its scores are not blended, so it needs no normalizer.
  const modes = input.modes.filter((m) => DETAIL_MODES.includes(m));
  if (!modes.includes(input.servedMode)) throw new Error(`the served mode ${input.servedMode} is not among the detail bank's modes ${modes.join(", ")}`);
  const plain: ScorerSettings = { ...settings, detail: undefined };
  const positions = async (mode: ScoringMode, p: ScorerParts, view: (x: PseudoFeature["x"]) => PseudoFeature["x"]): Promise<Float32Array[]> => {
    const opened = await openScorer(mode, p, plain, input.sessionOptions);
    try {
      const out: Float32Array[] = [];
      for (const f of set) {
        throwIfCancelled(input.signal, "detail-bank weight");
        // The seed of the whole frame's features, as FrameScorer.score draws it.
        out.push((await opened.scorer.positionScores(view(f.x), seedOfFeatures(f.x))).values);
        input.progress?.tick();
        input.onScored?.();
      }
      return out;
    } finally {
      await opened.release();
    }
  };
  const [lo, hi] = channels;
  const detailParts: ScorerParts = { coreset: rowSlice(parts.coreset, parts.coresetSize, parts.c, channels), coresetSize: parts.coresetSize, c: hi - lo };
  const detailScores = await positions("knn", detailParts, (x) => channelSlice(x, channels));
  const normals = (maps: readonly Float32Array[]) => maps.filter((_, i) => !set[i]!.anomalous);
  const nDetail = normalizerOf(normals(detailScores));
  const mainScores = new Map<ScoringMode, Float32Array[]>();
  const nMain: Partial<Record<ScoringMode, ScoreNormalizer>> = {};
  for (const mode of modes) {
    const scores = await positions(mode, parts, (x) => x);
    mainScores.set(mode, scores);
    nMain[mode] = normalizerOf(normals(scores));
  }

  const S = settings.mapSize;
  const scoreAt = (mode: ScoringMode, weight: number, pixels?: ClassPixelAuroc): number[] =>
    set.map((f, i) => {
      const blended = blendPositionScores(mainScores.get(mode)![i]!, detailScores[i]!, weight, nMain[mode]!, nDetail);
      const map = anomalyMap(blended, f.x.h, f.x.w, S, settings.sigma);
      pixels?.add(f.cls, map, f.mask);
      return imageScoreOf(map, S, settings);
    });

  const weights = [...new Set(input.weights)];
  const curve: (NonNullable<TuningRecord["detail"]>["curve"][number])[] = [];
  const servedScores: number[][] = [];
  const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));
  for (const weight of weights) {
    const pixels = weights.length > 1 ? new ClassPixelAuroc() : undefined;
    const scores = scoreAt(input.servedMode, weight, pixels);
    servedScores.push(scores);
    const point = { weight, image_auroc: meanClassAuroc(set, scores), pixel_auroc: pixels ? pixels.mean() : null };
    curve.push(point);
    if (weights.length > 1) input.log?.(`tune: ${input.servedMode} detail bank [${input.stages.join(", ")}] W=${weight}: image AUROC ${pct(point.image_auroc)}, pixel ${pct(point.pixel_auroc)}`);
  }
  const best = bestPointIndex(curve);
  const weight = weights[best]!;
  if (weights.length > 1) input.log?.(`tune: chose detail weight W=${weight}${weight === 0 ? " (the main bank alone)" : ""}`);
  const scored = modes.map((mode) => ({ mode, scores: mode === input.servedMode ? servedScores[best]! : scoreAt(mode, weight) }));
  return {
    detail: { stages: input.stages, channels, weight, normalizers: { detail: nDetail, main: nMain } },
    ...(weights.length > 1 ? { record: { mode: input.servedMode, stages: input.stages, curve, chosen: weight } } : {}),
    scored,
  };
}

/**
 * The detail bank's normalizers measured again at its weight, for a model
 * whose bank or U-Net changed (a lifecycle refresh or retrain, `lafite
 * train`): the main bank's position scores move with either, and the blend
 * keeps the meaning tuning gave W only if each bank is standardized by its
 * own current scores. Also returns every mode's image scores over the set at
 * that weight, for threshold calibration. Undefined when the detail bank is
 * off (absent, or W = 0).
 */
export async function remeasureDetail(
  set: readonly PseudoFeature[],
  parts: ScorerParts,
  settings: ScorerSettings,
  modes: readonly ScoringMode[],
  servedMode: ScoringMode,
  sessionOptions: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; onScored?: () => void } = {},
): Promise<{ detail: DetailScoring; scored: DetailTuneResult["scored"] } | undefined> {
  const d = settings.detail;
  const detailModes = modes.filter((m) => DETAIL_MODES.includes(m));
  if (!d || d.weight === 0 || detailModes.length === 0) return undefined;
  const r = await tuneDetailWeight({
    set,
    parts,
    settings,
    modes: detailModes,
    servedMode: detailModes.includes(servedMode) ? servedMode : detailModes[0]!,
    stages: d.stages,
    channels: d.channels,
    weights: [d.weight],
    sessionOptions,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onScored ? { onScored: options.onScored } : {}),
  });
  return { detail: r.detail, scored: r.scored };
}
