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
 */
import type * as ort from "onnxruntime-node";
import type { TuningPoint, TuningRecord } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { anomalyMap, imageScoreOf } from "../../model/scoring/anomaly-map.js";
import { blendPositionScores, channelSlice, classWeightTable, DETAIL_MODES, detailInUse, normalizerOf, rowSlice, type ChannelRange, type DetailScoring, type ScoreNormalizer } from "../../model/scoring/detail-bank.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { detailWeightOf, seedOfFeatures, type PositionScores } from "../frame-scorer.js";
import { auroc, PixelMetricAccumulator } from "../../measures/metrics.js";
import { ProAccumulator } from "../../measures/pro.js";
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
  /** Also choose W per class (tuning.detailPerClass), when the bank knows its rows' classes (parts.rowClasses) and the grid has more than one W. */
  readonly perClass?: boolean;
  /** Per-class weights to keep rather than choose (a re-measure): the scores are given at them. */
  readonly classWeights?: Readonly<Record<string, number>>;
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
  const positions = async (mode: ScoringMode, p: ScorerParts, view: (x: PseudoFeature["x"]) => PseudoFeature["x"]): Promise<PositionScores[]> => {
    const opened = await openScorer(mode, p, plain, input.sessionOptions);
    try {
      const out: PositionScores[] = [];
      for (const f of set) {
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
  const detailScores = (await positions("knn", detailParts, (x) => channelSlice(x, channels))).map((p) => p.values);
  const normals = (maps: readonly Float32Array[]) => maps.filter((_, i) => !set[i]!.anomalous);
  const nDetail = normalizerOf(normals(detailScores));
  const main = new Map<ScoringMode, PositionScores[]>();
  const nMain: Partial<Record<ScoringMode, ScoreNormalizer>> = {};
  for (const mode of modes) {
    const scores = await positions(mode, parts, (x) => x);
    main.set(mode, scores);
    nMain[mode] = normalizerOf(normals(scores.map((p) => p.values)));
  }

  const S = settings.mapSize;
  const mapAt = (mode: ScoringMode, i: number, weight: number): Float32Array => {
    const f = set[i]!;
    return anomalyMap(blendPositionScores(main.get(mode)![i]!.values, detailScores[i]!, weight, nMain[mode]!, nDetail), f.x.h, f.x.w, S, settings.sigma);
  };
  /** Image scores of the whole set, each sample at the W `weightOf` gives it; pixels and regions fed per class when asked. */
  const scoreAt = (mode: ScoringMode, weightOf: (i: number) => number, pixels?: ClassPixelAuroc): number[] =>
    set.map((f, i) => {
      const map = mapAt(mode, i, weightOf(i));
      pixels?.add(f.cls, map, f.mask);
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
  const perClass = input.perClass && rowClasses && weights.length > 1 ? sweepPerClass(input, weights, mapAt) : undefined;
  const classWeights = perClass ? Object.fromEntries(Object.entries(perClass).map(([cls, r]) => [cls, r.chosen])) : input.classWeights;
  if (perClass) input.log?.(`tune: chose detail weight per class (${((performance.now() - t0) / 1000).toFixed(1)} s): ${Object.entries(perClass).map(([cls, r]) => `${cls} W=${r.chosen}`).join(", ")}`);

  // The set's scores as a served scorer gives them: each sample at the W of the class its nearest main-bank rows name.
  const table = rowClasses && classWeights ? classWeightTable(rowClasses.names, classWeights, weight) : undefined;
  const weightFor = (mode: ScoringMode) => (i: number) => detailWeightOf({ weight, ...(table ? { classWeights: table } : {}) }, main.get(mode)![i]!.frameClass ?? -1);
  // With one W for every frame the sweep already scored the served mode at it.
  const scored = modes.map((mode) => ({ mode, scores: !table && mode === input.servedMode ? servedScores[best]! : scoreAt(mode, weightFor(mode)) }));
  return {
    detail: { stages: input.stages, channels, weight, normalizers: { detail: nDetail, main: nMain }, ...(classWeights ? { classWeights } : {}) },
    ...(weights.length > 1 ? { record: { mode: input.servedMode, stages: input.stages, curve, chosen: weight, ...(perClass ? { classes: perClass } : {}) } } : {}),
    scored,
  };
}

/**
 * Each class's W: over that class's samples (its normals and anomalies,
 * by their true class), the W with the highest AUPRO, then image AUROC, then
 * pixel AUROC, the earliest on ties. AUPRO leads because W is a localization
 * setting and AUPRO counts every defect region once: pixel AUROC is ruled by
 * the large pasted fragments, whose insides the fine stages see as normal
 * texture, and 20 anomalies per class leave image AUROC a point of noise.
 * On the realistic suite's three fits (bench:quality) this choice gave 82.0
 * / 94.6 / 78.8 (image / pixel AUROC / AUPRO, lafite) against one W's 82.0 /
 * 94.1 / 77.6, with W 0 for the logical class in every fit.
 */
function sweepPerClass(input: DetailTuneInput, weights: readonly number[], mapAt: (mode: ScoringMode, i: number, weight: number) => Float32Array): NonNullable<NonNullable<TuningRecord["detail"]>["classes"]> {
  const { set } = input;
  const S = input.settings.mapSize;
  const byClass = new Map<string, number[]>();
  set.forEach((f, i) => {
    const members = byClass.get(f.cls);
    if (members) members.push(i);
    else byClass.set(f.cls, [i]);
  });
  const out: Record<string, { curve: ClassWeightPoint[]; chosen: number }> = {};
  for (const [cls, members] of byClass) {
    if (!members.some((i) => set[i]!.anomalous) || members.every((i) => set[i]!.anomalous)) continue;
    const curve: ClassWeightPoint[] = weights.map((weight) => {
      throwIfCancelled(input.signal, "detail-bank weight per class");
      const pixels = new PixelMetricAccumulator();
      // One region accumulator at a time: each holds 16 MB of bins.
      const regions = new ProAccumulator();
      const scores = members.map((i) => {
        const f = set[i]!;
        const map = mapAt(input.servedMode, i, weight);
        const mask = f.mask ?? new Uint8Array(map.length);
        pixels.add(map, mask);
        regions.add(map, mask, S);
        return imageScoreOf(map, S, input.settings);
      });
      const labels = members.map((i) => (set[i]!.anomalous ? 1 : 0));
      return { weight, image_auroc: auroc(scores, labels), pixel_auroc: pixels.aurocOrNull(), aupro: regions.regions > 0 ? regions.aupro() : null };
    });
    out[cls] = { curve, chosen: weights[bestByRegions(curve)]! };
  }
  return out;
}

type ClassWeightPoint = TuningPoint & { readonly weight: number; readonly aupro: number | null };

/** Index of the highest AUPRO, then image AUROC, then pixel AUROC; ties keep the earliest. */
export function bestByRegions(points: readonly ClassWeightPoint[]): number {
  const key = (p: ClassWeightPoint) => [p.aupro, p.image_auroc, p.pixel_auroc].map((v) => v ?? Number.NEGATIVE_INFINITY);
  let best = 0;
  for (let i = 1; i < points.length; i++) {
    const a = key(points[i]!);
    const b = key(points[best]!);
    const j = a.findIndex((v, n) => Math.abs(v - b[n]!) > 1e-9);
    if (j >= 0 && a[j]! > b[j]!) best = i;
  }
  return best;
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
): Promise<{ detail: DetailScoring; scored: DetailTuneResult["scored"] } | undefined> {
  const d = settings.detail;
  const detailModes = modes.filter((m) => DETAIL_MODES.includes(m));
  if (!d || !detailInUse(d) || detailModes.length === 0) return undefined;
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
    sessionOptions,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onScored ? { onScored: options.onScored } : {}),
  });
  return { detail: r.detail, scored: r.scored };
}
