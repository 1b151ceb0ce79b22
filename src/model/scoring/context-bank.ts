/**
 * The context bank: a nearest-neighbour search over the main coreset rows,
 * each extended with the context of the frame it came from (the mean of the
 * coarsest stage's standardized features over the frame's cells, times λ),
 * queried with the frame's own context. A patch then matches rows of its
 * kind *from frames like its own*.
 *
 * Why: some logical anomalies show in no patch alone. On the realistic
 * suite's `kit` (eight nuts, all steel or all brass per frame) one brass nut
 * among steel ones is a normal brass nut to every patch method (knn 63.5
 * image AUROC); with context it has no near row, since brass nuts come from
 * brass frames (knn 96.7, issue 10 session 19). The same context costs a
 * class of frames of many shapes 18 points (its frames' contexts lie far
 * apart, so a patch finds few rows from frames like its own), so it is
 * weighted per class and blended in as the detail bank is (detail-bank.ts):
 *   s = μ_m + σ_m·((1 − W)·(m − μ_m)/σ_m + W·(d − μ_c)/σ_c), clamped at 0,
 * with W per class chosen on the pseudo-validation set's swapped parts
 * (image/pseudo/swap.ts), and 0 (no search) for every class they do not
 * speak for. The image score may take a W of its own (imageClassWeights):
 * whether a part belongs is a question of the whole frame, and the W that
 * answers it best can blur the heatmaps of other defects.
 *
 * Its rows are chosen apart from the main bank's, with the context in the
 * distance (memory/context-coreset.ts), and only for the classes the
 * pseudo-validation set can weigh it for (those with swapped parts); they
 * are stored unscaled with the λ they were chosen at (manifest
 * memory.contextBank).
 */
import type { FeatureMap, ScoringMode } from "../types.js";
import { anyWeightInUse, type ChannelRange, type ScoreNormalizer } from "./detail-bank.js";
import { invalidInput } from "../../util/errors.js";

/** How a model blends its context bank in (the manifest's scoring.context). */
export interface ContextScoring {
  /** λ: the context's weight against the patch's own features in the search. */
  readonly lambda: number;
  /** W for a frame of a class without its own (0: not searched). */
  readonly weight: number;
  /** The context bank's position scores over held-out normals, and the main scores' (after the detail blend) in each mode. */
  readonly normalizers?: { readonly context: ScoreNormalizer; readonly main: Partial<Record<ScoringMode, ScoreNormalizer>> };
  /** W per class name (the bank's row classes) for the heatmap, and for the image score where imageClassWeights names none; absent or a class not named: `weight`. */
  readonly classWeights?: Readonly<Record<string, number>>;
  /**
   * W per class name for the image score (the verdict), where it differs from
   * the heatmap's: an odd part is a question of the whole frame, and the W
   * that decides it best blurs the heatmap of other defects (chooseImageContextWeight).
   * Absent (bundles from before it), or a class not named: its classWeights W.
   */
  readonly imageClassWeights?: Readonly<Record<string, number>>;
}

/** Whether any frame can get a context weight above 0, for its heatmap or its image score. */
export function contextInUse(c: ContextScoring | undefined): boolean {
  return anyWeightInUse(c);
}

/**
 * A frame's context: per channel of `channels`, the mean over the cells that
 * show the frame (x.frame; a gray letterbox border, the same in every
 * class, would pull every frame's context towards it, and a mirrored one
 * counts the frame's edge twice).
 */
export function frameContext(x: FeatureMap, [lo, hi]: ChannelRange): Float32Array {
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && 0 <= lo && lo < hi && hi <= x.c)) throw invalidInput(`context channels [${lo}, ${hi}) are not inside [0, ${x.c})`);
  const r = x.frame ?? { x0: 0, y0: 0, x1: x.w, y1: x.h };
  const cells = (r.x1 - r.x0) * (r.y1 - r.y0);
  if (cells <= 0) throw invalidInput("the frame covers no cell of the grid");
  const out = new Float32Array(hi - lo);
  const plane = x.h * x.w;
  for (let ch = lo; ch < hi; ch++) {
    let s = 0;
    for (let y = r.y0; y < r.y1; y++) for (let i = y * x.w + r.x0; i < y * x.w + r.x1; i++) s += x.data[ch * plane + i]!;
    out[ch - lo] = s / cells;
  }
  return out;
}

/** The context bank's rows: each of the n main rows (c values) followed by λ times its frame's context (cc values). */
export function contextRows(rows: Float32Array, n: number, c: number, contexts: Float32Array, cc: number, lambda: number): Float32Array {
  if (rows.length !== n * c) throw invalidInput(`rows hold ${rows.length} values, not ${n}×${c}`);
  if (contexts.length !== n * cc) throw invalidInput(`row contexts hold ${contexts.length} values, not ${n}×${cc}`);
  const width = c + cc;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    out.set(rows.subarray(i * c, (i + 1) * c), i * width);
    for (let j = 0; j < cc; j++) out[i * width + c + j] = lambda * contexts[i * cc + j]!;
  }
  return out;
}

/** The query for a frame: its map with λ times its context appended as channels constant over the grid. */
export function withContext(x: FeatureMap, context: Float32Array, lambda: number): FeatureMap {
  const plane = x.h * x.w;
  const data = new Float32Array((x.c + context.length) * plane);
  data.set(x.data);
  context.forEach((v, j) => data.fill(lambda * v, (x.c + j) * plane, (x.c + j + 1) * plane));
  return { c: x.c + context.length, h: x.h, w: x.w, data, ...(x.frame ? { frame: x.frame } : {}) };
}

/** The channels a frame's context is the mean of: the coarsest stage's (the last of `stageWidths`), or all `c` when the widths are not known (a user ONNX backbone). */
export function contextChannelsOf(stageWidths: readonly number[] | undefined, c: number): ChannelRange {
  if (!stageWidths || stageWidths.length === 0) return [0, c];
  const last = stageWidths[stageWidths.length - 1]!;
  if (stageWidths.reduce((a, b) => a + b, 0) !== c) throw invalidInput(`stage widths [${stageWidths.join(", ")}] do not add up to the ${c} feature channels`);
  return [c - last, c];
}
