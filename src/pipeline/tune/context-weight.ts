/**
 * The context bank's weight W per class (model/scoring/context-bank.ts),
 * chosen after the detail bank's on the same pseudo-validation scores
 * (detail-weight.ts hands over its sweep's state): per class with enough
 * swapped parts, its normals against its swaps and against its other
 * anomalies at each W, guarded on the other classes its W reaches.
 */
import type { TuningRecord } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { anomalyMap, imageScoreOf } from "../../model/scoring/anomaly-map.js";
import { blendPositionScores, classWeightTable, imageClassWeightsOf, normalizerOf, type ScoreNormalizer } from "../../model/scoring/detail-bank.js";
import { frameContext, withContext, type ContextScoring } from "../../model/scoring/context-bank.js";
import { scaledContextRows } from "../../model/memory/context-coreset.js";
import type { ScorerParts } from "../open-scorer.js";
import { frameContextClass, frameContextWeight, type PositionScores } from "../frame-scorer.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { classPoint, type ClassWeightPoint } from "./class-point.js";
import type { DetailTuneInput, DetailTuneResult } from "./detail-weight.js";

/** What the detail sweep leaves the context sweep: every sample (the set, then the swaps), each mode's main scores, each sample's detail W and the blend at it. */
export interface DetailSweepState {
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
export async function tuneContext(input: DetailTuneInput, cx: NonNullable<DetailTuneInput["context"]>, state: DetailSweepState): Promise<{ context: ContextScoring; record?: NonNullable<TuningRecord["context"]>; scored: DetailTuneResult["scored"] }> {
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
