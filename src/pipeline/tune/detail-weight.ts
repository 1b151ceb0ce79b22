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
import { blendPositionScores, channelSlice, classWeightTable, DETAIL_MODES, detailInUse, imageClassWeightsOf, normalizerOf, rowSlice, type ChannelRange, type DetailScoring, type ScoreNormalizer } from "../../model/scoring/detail-bank.js";
import { contextInUse, frameContext, withContext, type ContextScoring } from "../../model/scoring/context-bank.js";
import { scaledContextRows } from "../../model/memory/context-coreset.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { detailWeightOf, frameContextClass, frameContextWeight, seedOfFeatures, type PositionScores } from "../frame-scorer.js";
import { auroc, PixelMetricAccumulator, separation } from "../../measures/metrics.js";
import { ProAccumulator } from "../../measures/pro.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import { framePixels, type PseudoFeature } from "./pseudo-features.js";
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
  const table = rowClasses && classWeights ? classWeightTable(rowClasses.names, classWeights, weight) : undefined;
  const imageTable = rowClasses && imageClassWeights ? classWeightTable(rowClasses.names, imageClassWeightsOf(detail), weight) : table;
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

/** What the detail sweep leaves the context sweep: every sample (the set, then the swaps), each mode's main scores, each sample's detail W and the blend at it. */
interface DetailSweepState {
  readonly all: readonly PseudoFeature[];
  readonly main: ReadonlyMap<ScoringMode, PositionScores[]>;
  readonly weightFor: (mode: ScoringMode) => (i: number) => number;
  /** The image score's detail W per sample, where it differs from the heatmap's (DetailScoring.imageClassWeights). */
  readonly imageWeightFor: (mode: ScoringMode) => (i: number) => number;
  /** Whether any class's image score has a detail W of its own: then the context's image-score W is chosen at it. */
  readonly imageDiffers: boolean;
  readonly detailedAt: (mode: ScoringMode, i: number, weight: number) => Float32Array;
  readonly positions: (mode: ScoringMode, p: ScorerParts, view: (x: PseudoFeature["x"]) => PseudoFeature["x"], samples: readonly PseudoFeature[]) => Promise<PositionScores[]>;
}

/**
 * The context bank's normalizers and its W per class, after the detail
 * bank's: the context search over every sample, then per class with at
 * least `minSwaps` swapped parts, its normals against its swaps and against
 * its other anomalies at each W (chooseContextWeight). Classes without
 * swaps get none: nothing in the set speaks for context there, and context
 * costs textures and frames of many shapes (context-bank.ts).
 */
async function tuneContext(input: DetailTuneInput, cx: NonNullable<DetailTuneInput["context"]>, state: DetailSweepState): Promise<{ context: ContextScoring; record?: NonNullable<TuningRecord["context"]>; scored: DetailTuneResult["scored"] }> {
  const { parts, settings, set } = input;
  const { all, main, weightFor, imageWeightFor, detailedAt } = state;
  const bank = parts.contextBank;
  const rowClasses = parts.rowClasses;
  if (!bank || !rowClasses) throw new Error("the context bank needs its rows and the main bank's row classes");
  const contextParts: ScorerParts = { coreset: scaledContextRows(bank, cx.lambda), coresetSize: bank.size, c: bank.c + bank.channels[1] - bank.channels[0] };
  // The set and the swaps (the warped edges, past them, have no part here).
  const swapEnd = set.length + cx.swaps.length;
  const contextScores = (await state.positions("knn", contextParts, (x) => withContext(x, frameContext(x, bank.channels), cx.lambda), all.slice(0, swapEnd))).map((p) => p.values);
  const isNormal = (i: number) => i < set.length && !set[i]!.anomalous;
  // Normalized over the normals that read as a class the context bank holds: a frame of another class finds no row of
  // its own there, and its huge distances would make every context z-score of the classes that use it tiny.
  const held = new Set(bank.classes);
  const modes = [...main.keys()];
  const normalsOf = (mode: ScoringMode, maps: (i: number) => Float32Array) => {
    const readHere = set.map((_, i) => i).filter((i) => isNormal(i) && held.has(main.get(mode)![i]!.frameClass ?? -1));
    return (readHere.length > 0 ? readHere : set.map((_, i) => i).filter(isNormal)).map(maps);
  };
  const nContext = normalizerOf(normalsOf(input.servedMode, (i) => contextScores[i]!));
  const nMain: Partial<Record<ScoringMode, ScoreNormalizer>> = {};
  // At the image score's detail W: one normalizer serves both blends (frame-scorer.ts contextBlend), and a heatmap W that
  // warped edges chose (imageClassWeights) must not move an image score through it.
  for (const mode of modes) nMain[mode] = normalizerOf(normalsOf(mode, (i) => detailedAt(mode, i, imageWeightFor(mode)(i))));
  const S = settings.mapSize;
  /** A sample's map at a context W, on the detail bank's blend at the heatmap's W (or `detailW`'s: the image score's). */
  const mapAt = (mode: ScoringMode, i: number, contextWeight: number, detailW = weightFor): Float32Array => {
    const f = all[i]!;
    const detailed = detailedAt(mode, i, detailW(mode)(i));
    const values = contextWeight === 0 ? detailed : blendPositionScores(detailed, contextScores[i]!, contextWeight, nMain[mode]!, nContext);
    return anomalyMap(values, f.x.h, f.x.w, S, settings.sigma);
  };
  // A frame's weight as the scorer serves it (frame-scorer.ts frameContextWeight), from its class votes and per-class weights by class index.
  const weightOfFrame = (mode: ScoringMode, i: number, table: Float64Array) => frameContextWeight({ weight: 0, classWeights: table }, main.get(mode)![i]!.classVotes);

  const weights = [...new Set([0, ...cx.weights])];
  const swapCounts: Record<string, number> = {};
  for (const f of cx.swaps) swapCounts[f.cls] = (swapCounts[f.cls] ?? 0) + 1;
  let classWeights = cx.classWeights;
  let imageClassWeights = cx.imageClassWeights;
  let record: NonNullable<TuningRecord["context"]> | undefined;
  if (weights.length > 1) {
    const classes: Record<string, { curve: ContextWeightPoint[]; chosen: number; imageChosen: number; imageCurve?: ContextWeightPoint[]; reached?: string[] }> = {};
    for (const [cls, n] of Object.entries(swapCounts)) {
      if (n < cx.minSwaps) continue;
      const normals = all.map((f, i) => (f.cls === cls && isNormal(i) ? i : -1)).filter((i) => i >= 0);
      const swapped = all.map((f, i) => (f.cls === cls && i >= set.length && i < swapEnd ? i : -1)).filter((i) => i >= 0);
      const others = all.map((f, i) => (f.cls === cls && i < set.length && f.anomalous ? i : -1)).filter((i) => i >= 0);
      if (normals.length === 0) continue;
      const alone = (weight: number) => classWeightTable(rowClasses.names, { [cls]: weight }, 0);
      const reached = reachedClasses(set, cls, (i) => weightOfFrame(input.servedMode, i, alone(Math.max(...weights))) > 0);
      const sweepAt = (detailW: typeof weightFor): ContextWeightPoint[] => {
        const sweep = weights.map((weight) => {
          // As served with this class alone weighted: its frames, and any that give it a share of their votes, at W.
          const table = alone(weight);
          const mapOf = (i: number) => mapAt(input.servedMode, i, weightOfFrame(input.servedMode, i, table), detailW);
          const swaps = classPoint(input, [...normals, ...swapped], weight, mapOf, all);
          const rest = others.length > 0 ? classPoint(input, [...normals, ...others], weight, mapOf, all).point : undefined;
          const point: ContextWeightPoint = { weight, swaps_auroc: swaps.point.image_auroc, swaps_separation: swaps.separation, image_auroc: rest?.image_auroc ?? null, pixel_auroc: rest?.pixel_auroc ?? null, aupro: rest?.aupro ?? null };
          return { point, reached: reached.map((r) => classPoint(input, r.members, weight, mapOf, all).point) };
        });
        return sweep.map(({ point, reached: at }) => (reached.length > 0 ? { ...point, ...reachedCosts(sweep[0]!.reached, at) } : point));
      };
      const curve = sweepAt(weightFor);
      // The image score's W on the image score's detail blend, where some class's differs from the heatmap's.
      const imageCurve = state.imageDiffers ? sweepAt(imageWeightFor) : undefined;
      classes[cls] = {
        curve,
        chosen: weights[chooseContextWeight(curve, cx.margin, cx.tolerance)]!,
        imageChosen: weights[chooseImageContextWeight(imageCurve ?? curve, cx.margin, cx.tolerance)]!,
        ...(imageCurve ? { imageCurve } : {}),
        ...(reached.length > 0 ? { reached: reached.map((r) => r.cls) } : {}),
      };
    }
    classWeights = Object.fromEntries(Object.entries(classes).map(([cls, r]) => [cls, r.chosen]));
    // Only where the image score's W differs: a model whose classes all agree carries none, as before it existed.
    const own = Object.entries(classes).filter(([, r]) => r.imageChosen !== r.chosen);
    imageClassWeights = own.length > 0 ? Object.fromEntries(own.map(([cls, r]) => [cls, r.imageChosen])) : undefined;
    record = { mode: input.servedMode, lambda: cx.lambda, margin: cx.margin, tolerance: cx.tolerance, swaps: swapCounts, classes };
    const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));
    input.log?.(`tune: context bank (λ ${cx.lambda}) per class, W ${weights.join("/")}: ${Object.keys(classes).length === 0 ? "no class has enough swapped parts" : Object.entries(classes).map(([cls, r]) => `${cls} W=${r.chosen}${r.imageChosen !== r.chosen ? `, image score W=${r.imageChosen}` : ""}${r.reached ? ` (reaches ${r.reached.join(", ")}: cost ${r.curve.map((p) => pct(p.reached_cost ?? 0)).join("/")}, image ${r.curve.map((p) => pct(p.reached_image_cost ?? 0)).join("/")})` : ""} (swapped parts image AUROC ${r.curve.map((p) => pct(p.swaps_auroc)).join("/")}, separation ${r.curve.map((p) => (p.swaps_separation == null ? "–" : p.swaps_separation.toFixed(1))).join("/")}; its other anomalies ${r.curve.map((p) => pct(p.image_auroc)).join("/")}, AUPRO ${r.curve.map((p) => pct(p.aupro)).join("/")})`).join(", ")}`);
  }
  const context: ContextScoring = { lambda: cx.lambda, weight: 0, normalizers: { context: nContext, main: nMain }, ...(classWeights ? { classWeights } : {}), ...(imageClassWeights ? { imageClassWeights } : {}) };
  // The image scores (thresholds are calibrated on them) at each class's image-score W.
  const imageTable = classWeightTable(rowClasses.names, imageClassWeightsOf(context), 0);
  const scored = modes.map((mode) => ({ mode, scores: set.map((_, i) => imageScoreOf(mapAt(mode, i, weightOfFrame(mode, i, imageTable), imageWeightFor), S, settings)) }));
  return { context, ...(record ? { record } : {}), scored };
}

/** One class's figures at one weight over its samples (`members`, indices into `samples`): image AUROC, pixel AUROC and AUPRO; and how far its anomalies' image scores stand from its normals' (separation). */
function classPoint(input: Pick<DetailTuneInput, "signal" | "settings">, members: readonly number[], weight: number, mapOf: (i: number) => Float32Array, samples: readonly PseudoFeature[]): { point: ClassWeightPoint; separation: number | null } {
  throwIfCancelled(input.signal, "bank weight per class");
  const S = input.settings.mapSize;
  const pixels = new PixelMetricAccumulator();
  // One region accumulator at a time: each holds 16 MB of bins.
  const regions = new ProAccumulator();
  const scores = members.map((i) => {
    const map = mapOf(i);
    const px = framePixels(samples[i]!, map, S);
    pixels.add(px.map, px.mask);
    regions.add(px.map, px.mask, px.width);
    return imageScoreOf(map, S, input.settings);
  });
  const labels = members.map((i) => (samples[i]!.anomalous ? 1 : 0));
  return { point: { weight, image_auroc: auroc(scores, labels), pixel_auroc: pixels.aurocOrNull(), aupro: regions.regions > 0 ? regions.aupro() : null }, separation: separation(scores, labels) };
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
      out[cls] = { curve: own, chosen: weights[bestByRegions(own)]! };
      continue;
    }
    const normals = members.filter((i) => !set[i]!.anomalous);
    const onWarps = weights.map((weight) => classPoint(input, [...normals, ...warps], weight, at(weight), all).point);
    const curve = own.map((p, j) => meanPoint(p, onWarps[j]!));
    // The heatmap's W from both; the image score's from the set alone: the warped edges are changes of shape the
    // fine stages localize and cannot rank (the realistic suite's nut: their image AUROC at chance at every W).
    out[cls] = { curve, chosen: weights[bestByRegions(curve)]!, imageChosen: weights[bestByRegions(own)]!, set: own, warps: onWarps };
  }
  return out;
}

/**
 * The classes whose heatmaps the context bank may blend into: those it holds, and those with a frame of the set that
 * gives one of them CONTEXT_MIN_SHARE of its votes (frame-scorer.ts frameContextWeight). Their detail W stays the set's:
 * the context weight, chosen after it and on the set's terms, is blended on top of it, and on the realistic suite a
 * heatmap W that warped edges gave the assembly met kit's context weight on the assembly's frames that read partly as kit
 * (its pixel AUROC 98.2 -> 92.9, AUPRO 93.8 -> 76.4).
 */
export function contextReach(set: readonly Pick<PseudoFeature, "cls">[], scores: readonly Pick<PositionScores, "classVotes">[], held: ArrayLike<number> | undefined, names: readonly string[]): Set<string> {
  // A W of 1 for every class the bank holds: a frame is reached where frameContextClass finds one of them.
  const holds = new Float64Array(names.length);
  for (const k of Array.from(held ?? [])) holds[k] = 1;
  const out = new Set(names.filter((_, k) => holds[k] === 1));
  set.forEach((f, i) => {
    const votes = scores[i]?.classVotes;
    if (votes && frameContextClass(holds, votes) >= 0) out.add(f.cls);
  });
  return out;
}

/** Two sweep points at one W averaged figure by figure; a figure one of them lacks (null) is the other's. */
export function meanPoint(a: ClassWeightPoint, b: ClassWeightPoint): ClassWeightPoint {
  const mean = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : (x + y) / 2);
  return { weight: a.weight, image_auroc: mean(a.image_auroc, b.image_auroc), pixel_auroc: mean(a.pixel_auroc, b.pixel_auroc), aupro: mean(a.aupro, b.aupro) };
}

export type ClassWeightPoint = TuningPoint & { readonly weight: number; readonly aupro: number | null };

/**
 * A class's context sweep point: image AUROC of its normals against its swapped parts and how far the swaps' scores
 * stand from the normals' (measures/metrics.ts separation; absent in bundles from before it), and its figures over
 * its other anomalies. Where its W reaches frames of other classes (reachedClasses), the most it costs one of them
 * over W 0 (reachedCosts).
 */
export type ContextWeightPoint = ClassWeightPoint & { readonly swaps_auroc: number | null; readonly swaps_separation?: number | null; readonly reached_cost?: number; readonly reached_image_cost?: number };

/**
 * The other classes a class's context weight reaches: those with a frame of the set that gets it (`gets`, as served:
 * it gives the class a fifth of its votes), each with its normals and anomalies, when it has both. A class the
 * context bank does not hold finds no rows of its own there, so a frame of it that the weight reaches is scored on
 * another scale than its class's other frames: on the realistic suite a W of 1 for kit reached the assembly frames
 * that give kit a fifth of their votes, and put the assembly's good frames among its defects (image AUROC 100 -> 83).
 */
export function reachedClasses(set: readonly Pick<PseudoFeature, "cls" | "anomalous">[], cls: string, gets: (i: number) => boolean): { cls: string; members: number[] }[] {
  const names = [...new Set(set.flatMap((f, i) => (f.cls !== cls && gets(i) ? [f.cls] : [])))].sort();
  return names
    .map((name) => ({ cls: name, members: set.flatMap((f, i) => (f.cls === name ? [i] : [])) }))
    .filter((r) => r.members.some((i) => set[i]!.anomalous) && r.members.some((i) => !set[i]!.anomalous));
}

/** The most a W costs one reached class over W 0 (`base`, a point per reached class): in the mean of image AUROC and AUPRO (the heatmap's guard), and in image AUROC alone (the image score's). */
export function reachedCosts(base: readonly ClassWeightPoint[], at: readonly ClassWeightPoint[]): { reached_cost: number; reached_image_cost: number } {
  let cost = 0;
  let imageCost = 0;
  base.forEach((b, j) => {
    const p = at[j]!;
    cost = Math.max(cost, (otherAnomaliesScore(b) ?? 0) - (otherAnomaliesScore(p) ?? 0));
    imageCost = Math.max(imageCost, (b.image_auroc ?? 0) - (p.image_auroc ?? 0));
  });
  return { reached_cost: cost, reached_image_cost: imageCost };
}

/**
 * The context weight for a class (an index into the curve, whose first point
 * is W 0): the point with the highest image AUROC on the swapped parts (on
 * a tie, the one whose swaps stand farther from the normals, `separation`,
 * then the smaller W: 17 swaps saturate at 100 % where a W still tells
 * kit's odd parts apart better than another), kept
 * only when it beats W 0's by `margin` and costs the class's other anomalies
 * (pasted and logical) no more than `tolerance` of their mean image AUROC and
 * AUPRO (`guarded`: chooseImageContextWeight guards their image AUROC
 * alone), nor any class it reaches (`reachedCost`, reachedCosts); else W 0. Context is for the anomalies only it sees, and must not
 * blur the rest (context-bank.ts). The margin is small: seamless cloning
 * leaves a faint ring that any model sees, so the swaps understate what
 * context does. When 13 of kit's 20 swaps were like parts (before
 * part-appearance.ts), lafite mode found 87 % of them without context and
 * 88 % with it, where the real odd nuts went from 57 to 99; of swaps that
 * stand out it finds 77–81 % without and 100 % at W 1.
 * Classes with swaps are those with parts that can differ from frame to
 * frame and frames of one size.
 */
export function chooseContextWeight(
  curve: readonly ContextWeightPoint[],
  margin: number,
  tolerance: number,
  guarded: (p: ContextWeightPoint) => number | null = otherAnomaliesScore,
  reachedCost: (p: ContextWeightPoint) => number = (p) => p.reached_cost ?? 0,
): number {
  const swaps = (p: ContextWeightPoint) => p.swaps_auroc ?? Number.NEGATIVE_INFINITY;
  const apart = (p: ContextWeightPoint) => p.swaps_separation ?? Number.NEGATIVE_INFINITY;
  const rest = (p: ContextWeightPoint) => guarded(p) ?? 0;
  const base = curve[0]!;
  let best = 0;
  curve.forEach((p, j) => {
    if (j === 0 || swaps(p) < swaps(base) + margin - 1e-9 || rest(p) < rest(base) - tolerance || reachedCost(p) > tolerance + 1e-9) return;
    const b = curve[best]!;
    const tied = Math.abs(swaps(p) - swaps(b)) <= 1e-9;
    if (best === 0 || swaps(p) > swaps(b) + 1e-9 || (tied && apart(p) > apart(b) + 1e-9)) best = j;
  });
  return best;
}

/**
 * The image score's context weight for a class: chooseContextWeight, with
 * only the other anomalies' image AUROC guarded. The verdict is the image
 * score's; the heatmap keeps chooseContextWeight's W, which also guards
 * their AUPRO. On the realistic suite's kit, W 1 costs its pasted and
 * logical pseudo-anomalies 7–9 AUPRO but no image AUROC (100 at every W),
 * and lifts its swapped parts from 94.7–99.7 to 100 image AUROC; on its test
 * set (odd parts) W 1 gave 100 image AUROC where 0.5 gave 87–92.
 */
export function chooseImageContextWeight(curve: readonly ContextWeightPoint[], margin: number, tolerance: number): number {
  return chooseContextWeight(curve, margin, tolerance, (p) => p.image_auroc, (p) => p.reached_image_cost ?? 0);
}

/** What a context weight may not cost: a class's other pseudo-anomalies' mean of image AUROC and AUPRO (null: no image AUROC). */
export function otherAnomaliesScore(p: Pick<ContextWeightPoint, "image_auroc" | "aupro">): number | null {
  return p.image_auroc === null ? null : (p.image_auroc + (p.aupro ?? p.image_auroc)) / 2;
}

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
