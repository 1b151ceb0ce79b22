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
 *
 * With tuning.detailPerClass, each class also gets its own W (sweepPerClass:
 * the same blends, scored per class by AUPRO), and a served frame the W of
 * the class its nearest main-bank rows belong to; the model's one W stays
 * for frames of a class without its own.
 *
 * The context bank's weights are chosen after it, on the same scores
 * (context-weight.ts).
 */
import type * as ort from "onnxruntime-node";
import type { TuningRecord } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { anomalyMap, imageScoreOf } from "../../model/scoring/anomaly-map.js";
import { bankWeightTables, blendPositionScores, channelSlice, DETAIL_MODES, detailInUse, normalizerOf, rowSlice, type ChannelRange, type DetailScoring, type ScoreNormalizer } from "../../model/scoring/detail-bank.js";
import { contextInUse, type ContextScoring } from "../../model/scoring/context-bank.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { detailWeightOf, seedOfFeatures, type PositionScores } from "../frame-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { ClassPixelAuroc, meanClassAuroc } from "./score-set.js";
import { bestPointIndex } from "./best-point.js";
import { classPoint, leastWithinTie, meanPoint, WEIGHT_AUPRO_TIE, type ClassWeightPoint } from "./class-point.js";
import { contextReach, tuneContext } from "./context-weight.js";

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
  /** Also choose W per class (tuning.detailPerClass), when the bank knows its rows' classes (parts.rowClasses) and the grid has more than one W. */
  readonly perClass?: boolean;
  /** Per-class weights to keep rather than choose (a re-measure): the scores are given at them. */
  readonly classWeights?: Readonly<Record<string, number>>;
  /** With classWeights: the image score's own weights to keep (DetailScoring.imageClassWeights). */
  readonly imageClassWeights?: Readonly<Record<string, number>>;
  /**
   * The context bank (scoring/context-bank.ts), weighted after the detail bank; needs parts.rowContext and parts.rowClasses.
   * `weights`: the grid swept per class over the swapped parts (one weight: kept, with `classWeights`, as a re-measure does).
   */
  readonly context?: { readonly lambda: number; readonly weights: readonly number[]; readonly margin: number; readonly tolerance: number; readonly minSwaps: number; readonly swaps: readonly PseudoFeature[]; readonly classWeights?: Readonly<Record<string, number>>; readonly imageClassWeights?: Readonly<Record<string, number>> };
  /**
   * Warped edges (image/pseudo/warp.ts) that the per-class sweep weighs beside the set: a class with at least `min`
   * of them gets the mean of its figures on the set and on them (sweepPerClass).
   */
  readonly warps?: { readonly samples: readonly PseudoFeature[]; readonly min: number };
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** Called after each scoring too, for callers that count their own progress (lifecycle jobs). */
  readonly onScored?: () => void;
  readonly log?: (msg: string) => void;
}

export interface DetailTuneResult {
  readonly detail: DetailScoring;
  /** The context bank, when asked for. */
  readonly context?: ContextScoring;
  /** The sweep, when the grid had more than one weight. */
  readonly record?: NonNullable<TuningRecord["detail"]>;
  /** The context bank's per-class sweep, when it had more than one weight. */
  readonly contextRecord?: NonNullable<TuningRecord["context"]>;
  /** The set's image scores at the chosen W, per detail mode: threshold calibration need not score the set again in those. */
  readonly scored: readonly { readonly mode: ScoringMode; readonly scores: readonly number[] }[];
}

/** How many scorings tuneDetailWeight does for a set and the modes asked for (its progress total); with the context bank, its search and the swaps' scorings too; and the warped edges' two (main and detail bank). */
export function detailTuneWork(setSize: number, modes: readonly ScoringMode[], swaps = -1, warps = 0): number {
  const base = setSize * (modes.filter((m) => DETAIL_MODES.includes(m)).length + 1) + 2 * warps;
  return swaps < 0 ? base : base + setSize + 3 * swaps;
}

export async function tuneDetailWeight(input: DetailTuneInput): Promise<DetailTuneResult> {
  const { set, parts, settings, channels } = input;
  // no-edit gets no detail bank (DETAIL_MODES): its scores are not blended, so it needs no normalizer.
  const modes = input.modes.filter((m) => DETAIL_MODES.includes(m));
  if (!modes.includes(input.servedMode)) throw new Error(`the served mode ${input.servedMode} is not among the detail bank's modes ${modes.join(", ")}`);
  const plain: ScorerSettings = { ...settings, detail: undefined, context: undefined };
  const swaps = input.context?.swaps ?? [];
  const warps = input.perClass ? (input.warps?.samples ?? []) : [];
  // The swapped parts follow the set, then the warped edges: indices past set.length are scored only where the context or per-class sweep needs them.
  const all = [...set, ...swaps, ...warps];
  const positions = async (mode: ScoringMode, p: ScorerParts, view: (x: PseudoFeature["x"]) => PseudoFeature["x"], samples: readonly PseudoFeature[]): Promise<PositionScores[]> => {
    const opened = await openScorer(mode, p, plain, input.sessionOptions);
    try {
      const out: PositionScores[] = [];
      for (const f of samples) {
        throwIfCancelled(input.signal, "detail-bank weight");
        // The seed of the whole frame's features, as FrameScorer.score draws it.
        out.push(await opened.scorer.positionScores(view(f.x), seedOfFeatures(f.x)));
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
  const detailScores = (await positions("knn", detailParts, (x) => channelSlice(x, channels), all)).map((p) => p.values);
  const normals = (maps: readonly Float32Array[]) => maps.filter((_, i) => i < set.length && !set[i]!.anomalous);
  const nDetail = normalizerOf(normals(detailScores));
  const main = new Map<ScoringMode, PositionScores[]>();
  const nMain: Partial<Record<ScoringMode, ScoreNormalizer>> = {};
  for (const mode of modes) {
    const scores = await positions(mode, parts, (x) => x, mode === input.servedMode ? all : set);
    main.set(mode, scores);
    nMain[mode] = normalizerOf(normals(scores.map((p) => p.values)));
  }

  const S = settings.mapSize;
  const detailedAt = (mode: ScoringMode, i: number, weight: number): Float32Array => blendPositionScores(main.get(mode)![i]!.values, detailScores[i]!, weight, nMain[mode]!, nDetail);
  const mapAt = (mode: ScoringMode, i: number, weight: number): Float32Array => {
    const f = all[i]!;
    return anomalyMap(detailedAt(mode, i, weight), f.x.h, f.x.w, S, settings.sigma);
  };
  /** Image scores of the whole set, each sample at the W `weightOf` gives it; pixels and regions fed per class when asked. */
  const scoreAt = (mode: ScoringMode, weightOf: (i: number) => number, pixels?: ClassPixelAuroc): number[] =>
    set.map((f, i) => {
      const map = mapAt(mode, i, weightOf(i));
      pixels?.addFrame(f, map, S);
      return imageScoreOf(map, S, settings);
    });

  const weights = [...new Set(input.weights)];
  const curve: (NonNullable<TuningRecord["detail"]>["curve"][number])[] = [];
  const servedScores: number[][] = [];
  const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));
  for (const weight of weights) {
    const pixels = weights.length > 1 ? new ClassPixelAuroc() : undefined;
    const scores = scoreAt(input.servedMode, () => weight, pixels);
    servedScores.push(scores);
    const point = { weight, image_auroc: meanClassAuroc(set, scores), pixel_auroc: pixels ? pixels.mean() : null };
    curve.push(point);
    if (weights.length > 1) input.log?.(`tune: ${input.servedMode} detail bank [${input.stages.join(", ")}] W=${weight}: image AUROC ${pct(point.image_auroc)}, pixel ${pct(point.pixel_auroc)}`);
  }
  const best = bestPointIndex(curve);
  const weight = weights[best]!;
  if (weights.length > 1) input.log?.(`tune: chose detail weight W=${weight}${weight === 0 ? " (the main bank alone)" : ""}`);

  // Per class: each class's own sweep, when asked for and the bank knows its rows' classes; or the weights a re-measure keeps.
  const rowClasses = parts.rowClasses;
  const t0 = performance.now();
  const warped = { from: set.length + swaps.length, min: input.warps?.min ?? Number.POSITIVE_INFINITY, skip: input.context && rowClasses ? contextReach(set, main.get(input.servedMode)!, parts.contextBank?.classes, rowClasses.names) : new Set<string>() };
  const perClass = input.perClass && rowClasses && weights.length > 1 ? sweepPerClass(input, weights, mapAt, all, warped) : undefined;
  const classWeights = perClass ? Object.fromEntries(Object.entries(perClass).map(([cls, r]) => [cls, r.chosen])) : input.classWeights;
  // The image score keeps the set's choice where warped edges moved the heatmap's (sweepPerClass's imageChosen).
  const ownImage = perClass ? Object.entries(perClass).filter(([, r]) => r.imageChosen !== undefined && r.imageChosen !== r.chosen) : [];
  const imageClassWeights = perClass ? (ownImage.length > 0 ? Object.fromEntries(ownImage.map(([cls, r]) => [cls, r.imageChosen!])) : undefined) : input.imageClassWeights;
  if (perClass) input.log?.(`tune: chose detail weight per class (${((performance.now() - t0) / 1000).toFixed(1)} s): ${Object.entries(perClass).map(([cls, r]) => `${cls} W=${r.chosen}${r.imageChosen !== undefined && r.imageChosen !== r.chosen ? `, image score W=${r.imageChosen}` : ""}${r.warps ? ` (AUPRO ${r.curve.map((p) => pct(p.aupro)).join("/")}: set ${r.set!.map((p) => pct(p.aupro)).join("/")}, warped edges ${r.warps.map((p) => pct(p.aupro)).join("/")})` : ""}`).join(", ")}`);

  // The set's scores as a served scorer gives them: each sample at the W of the class its nearest main-bank rows name.
  const detail: DetailScoring = { stages: input.stages, channels, weight, normalizers: { detail: nDetail, main: nMain }, ...(classWeights ? { classWeights } : {}), ...(imageClassWeights ? { imageClassWeights } : {}) };
  const tables = rowClasses ? bankWeightTables(rowClasses.names, detail) : {};
  const table = tables.classWeights;
  const imageTable = tables.imageClassWeights ?? table;
  const weightOf = (t: Float64Array | undefined) => (mode: ScoringMode) => (i: number) => detailWeightOf({ weight, ...(t ? { classWeights: t } : {}) }, main.get(mode)![i]!.frameClass ?? -1);
  const weightFor = weightOf(table);
  const imageWeightFor = weightOf(imageTable);
  const record = weights.length > 1 ? { record: { mode: input.servedMode, stages: input.stages, curve, chosen: weight, ...(perClass ? { classes: perClass } : {}) } } : {};
  if (input.context) {
    const tuned = await tuneContext(input, input.context, { all, main, weightFor, imageWeightFor, imageDiffers: imageTable !== table, detailedAt, positions });
    return { detail, context: tuned.context, ...record, ...(tuned.record ? { contextRecord: tuned.record } : {}), scored: tuned.scored };
  }
  // With one W for every frame the sweep already scored the served mode at it.
  const scored = modes.map((mode) => ({ mode, scores: !imageTable && mode === input.servedMode ? servedScores[best]! : scoreAt(mode, imageWeightFor(mode)) }));
  return { detail, ...record, scored };
}


/**
 * Each class's W: over that class's samples (its normals and anomalies,
 * by their true class), the W with the highest AUPRO, then image AUROC, then
 * pixel AUROC, the earliest on ties; or an earlier W within half a point of
 * its AUPRO (leastWithinTie). AUPRO leads because W is a localization
 * setting and AUPRO counts every defect region once: pixel AUROC is ruled by
 * the large pasted fragments, whose insides the fine stages see as normal
 * texture, and 20 anomalies per class leave image AUROC a point of noise.
 * On the realistic suite's three fits (bench:quality) this choice gave 82.0
 * / 94.6 / 78.8 (image / pixel AUROC / AUPRO, lafite) against one W's 82.0 /
 * 94.1 / 77.6, with W 0 for the logical class in every fit.
 *
 * Warped edges (samples of `all` from `warped.from` on) count as much as the
 * whole set: a class with at least `warped.min` of them is scored at each W
 * by the mean of its set's figures and of its normals against its warps
 * (meanPoint), and its record keeps both curves. The set's pasted fragments
 * are blobs the coarse stages localize best, so on a part whose real defects
 * are small changes of shape the set alone ranked the fine stages last: the
 * realistic suite's glass plate chose W 0 in every fit, where W 0.5 lifts its
 * test AUPRO from 79 to 90 (its wrong angles' from 44 to 76), and its
 * warps alone rank W as the test does (AUPRO 71.5 at W 0, 87.1 at 0.5).
 */
function sweepPerClass(
  input: DetailTuneInput,
  weights: readonly number[],
  mapAt: (mode: ScoringMode, i: number, weight: number) => Float32Array,
  all: readonly PseudoFeature[],
  warped: { readonly from: number; readonly min: number; readonly skip: ReadonlySet<string> },
): NonNullable<NonNullable<TuningRecord["detail"]>["classes"]> {
  const { set } = input;
  const byClass = new Map<string, number[]>();
  set.forEach((f, i) => {
    const members = byClass.get(f.cls);
    if (members) members.push(i);
    else byClass.set(f.cls, [i]);
  });
  const out: Record<string, { curve: ClassWeightPoint[]; chosen: number; imageChosen?: number; set?: ClassWeightPoint[]; warps?: ClassWeightPoint[] }> = {};
  for (const [cls, members] of byClass) {
    if (!members.some((i) => set[i]!.anomalous) || members.every((i) => set[i]!.anomalous)) continue;
    const at = (weight: number) => (i: number) => mapAt(input.servedMode, i, weight);
    const own = weights.map((weight) => classPoint(input, members, weight, at(weight), all).point);
    const warps = warped.skip.has(cls) ? [] : all.map((f, i) => (i >= warped.from && f.cls === cls ? i : -1)).filter((i) => i >= 0);
    if (warps.length < warped.min) {
      out[cls] = { curve: own, chosen: weights[leastWithinTie(own, WEIGHT_AUPRO_TIE)]! };
      continue;
    }
    const normals = members.filter((i) => !set[i]!.anomalous);
    const onWarps = weights.map((weight) => classPoint(input, [...normals, ...warps], weight, at(weight), all).point);
    const curve = own.map((p, j) => meanPoint(p, onWarps[j]!));
    // The heatmap's W from both; the image score's from the set alone: the warped edges are changes of shape the
    // fine stages localize and cannot rank (the realistic suite's nut: their image AUROC at chance at every W).
    out[cls] = { curve, chosen: weights[leastWithinTie(curve, WEIGHT_AUPRO_TIE)]!, imageChosen: weights[leastWithinTie(own, WEIGHT_AUPRO_TIE)]!, set: own, warps: onWarps };
  }
  return out;
}

/**
 * The detail bank's normalizers measured again at its weight, for a model
 * whose bank or U-Net changed (a lifecycle refresh or retrain, `lafite
 * train`): the main bank's position scores move with either, and the blend
 * keeps the meaning tuning gave W only if each bank is standardized by its
 * own current scores. Also returns every mode's image scores over the set at
 * that weight (each frame at its class's, with per-class weights), for
 * threshold calibration. Undefined when the detail bank is off (absent, or
 * W = 0 for every class).
 */
export async function remeasureDetail(
  set: readonly PseudoFeature[],
  parts: ScorerParts,
  settings: ScorerSettings,
  modes: readonly ScoringMode[],
  servedMode: ScoringMode,
  sessionOptions: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; onScored?: () => void } = {},
): Promise<{ detail: DetailScoring; context?: ContextScoring; scored: DetailTuneResult["scored"] } | undefined> {
  const d = settings.detail;
  const c = settings.context;
  const detailModes = modes.filter((m) => DETAIL_MODES.includes(m));
  const contextOn = c && contextInUse(c) && parts.contextBank !== undefined;
  if (!d || (!detailInUse(d) && !contextOn) || detailModes.length === 0) return undefined;
  const r = await tuneDetailWeight({
    set,
    parts,
    settings,
    modes: detailModes,
    servedMode: detailModes.includes(servedMode) ? servedMode : detailModes[0]!,
    stages: d.stages,
    channels: d.channels,
    weights: [d.weight],
    ...(d.classWeights ? { classWeights: d.classWeights } : {}),
    ...(d.imageClassWeights ? { imageClassWeights: d.imageClassWeights } : {}),
    // The kept per-class weights, re-measured (no swaps: nothing is chosen).
    ...(contextOn ? { context: { lambda: c.lambda, weights: [0], margin: 0, tolerance: 0, minSwaps: 0, swaps: [], ...(c.classWeights ? { classWeights: c.classWeights } : {}), ...(c.imageClassWeights ? { imageClassWeights: c.imageClassWeights } : {}) } } : {}),
    sessionOptions,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onScored ? { onScored: options.onScored } : {}),
  });
  return { detail: r.detail, ...(r.context ? { context: r.context } : {}), scored: r.scored };
}
