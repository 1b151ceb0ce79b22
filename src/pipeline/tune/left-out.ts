/**
 * Threshold normals for classes with too few held-out images: their bank
 * images scored with their own coreset rows left out.
 *
 * A class of a few dozen training images holds out 2 or 3 (threshold.holdout
 * 0.1), under threshold.minClassNormals, so it is judged by the model's
 * threshold, which other classes' normals set. Its bank images are normals
 * too, but scored as they are they find their own rows and score low. The
 * coreset rows are copies of training slices, so a training image's own rows
 * are the rows at distance ~0 from its slices; every search leaving those out
 * scores the image as if it had not been fitted (FrameScorer leaveOut).
 *
 * Measured on the realistic suite (seed-0 fit, lafite / knn): left-out bank
 * images score like held-out ones where a class has many of both (cast_tile,
 * mean ± sd 71.8 ± 7.2 against 71.2 ± 6.2; dyed_cloth 58.4 ± 1.9 against
 * 58.2 ± 1.9) and a little higher elsewhere (nut_gray 61.3 against 54.6: the
 * coreset was chosen with the image in, so its neighbourhood is thinner
 * without it), which errs towards fewer false alarms. In the 25-image class
 * the 2 held-out normals spread 0.5; its 23 left-out bank images 3.1, and its
 * unseen test normals 3.0. The U-Net has still seen the image (lafite mode);
 * at the served τ its reconstruction changes the score little.
 */
import path from "node:path";
import type * as ort from "onnxruntime-node";
import { scanDataset } from "../../dataset/mvtec-layout.js";
import { bankImagesOf, holdoutFileParts } from "../../image/pseudo/holdout.js";
import type { FeatureMap, ScoringMode } from "../types.js";
import { BANK_MODES } from "../../model/types.js";
import { DEFAULT_MIN_CLASS_NORMALS, type ClassScore, type ThresholdParams } from "../../model/scoring/threshold.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { throwIfCancelled } from "../../util/progress.js";
import { evenlySpacedIndices } from "../../util/evenly-spaced.js";

/** Bank images scored per class at most: enough to place a class's tail, few enough that calibration stays quick. */
export const MAX_LEFT_OUT_PER_CLASS = 100;

/** A bank image of a class short of held-out normals, as standardized features. */
export interface LeftOutMap {
  readonly cls: string;
  readonly x: FeatureMap;
}

/**
 * The classes whose held-out normals (one entry per normal in `heldOut`) are
 * fewer than minClassNormals, among `classes`, when per-class thresholds are
 * asked for: the ones whose bank images are worth scoring left out. Pure.
 */
export function classesShortOfNormals(params: ThresholdParams, heldOut: readonly string[], classes: readonly string[]): string[] {
  if (!params.perClass) return [];
  const min = params.minClassNormals ?? DEFAULT_MIN_CLASS_NORMALS;
  const count = new Map<string, number>();
  for (const cls of heldOut) count.set(cls, (count.get(cls) ?? 0) + 1);
  return [...new Set(classes)].filter((cls) => (count.get(cls) ?? 0) < min);
}

/** At most `max` of `items`, evenly spaced (all of them when they are fewer). Pure. */
export function evenlyPicked<T>(items: readonly T[], max = MAX_LEFT_OUT_PER_CLASS): T[] {
  if (items.length <= max) return [...items];
  return evenlySpacedIndices(items.length, max).map((i) => items[i]!);
}

/**
 * Each map's image score in `mode` with its own rows left out, as a class
 * normal (ClassScore leftOut). A map whose slices the bank holds too many
 * copies of to leave out is skipped, and said so.
 */
export async function leftOutScores(
  maps: readonly LeftOutMap[],
  parts: ScorerParts,
  settings: ScorerSettings,
  mode: ScoringMode,
  sessionOptions: ort.InferenceSession.SessionOptions,
  options: { signal?: AbortSignal; log?: (msg: string) => void; onScored?: () => void } = {},
): Promise<ClassScore[]> {
  if (maps.length === 0 || !BANK_MODES.includes(mode)) return [];
  const opened = await openScorer(mode, parts, settings, sessionOptions);
  const out: ClassScore[] = [];
  try {
    for (const { cls, x } of maps) {
      throwIfCancelled(options.signal, "threshold calibration");
      try {
        out.push({ cls, anomalous: false, leftOut: true, score: (await opened.scorer.score(x, undefined, { leaveOut: true })).score });
      } catch (err) {
        options.log?.(`${mode}: a ${cls} bank image could not be scored with its rows left out (${(err as Error).message}); calibrating without it`);
      }
      options.onScored?.();
    }
  } finally {
    await opened.release();
  }
  return out;
}

/**
 * The bank images of `classes` in a bundle's data set: their train/good
 * files less the held-out ones (paths relative to `dataset`), at most
 * MAX_LEFT_OUT_PER_CLASS each, evenly spaced. Classes the data set no longer
 * has give none. A class whose held-out images are tiles (a tile bundle's,
 * model/tiling.ts) has its bank images cut into the same tiles, as fit cut
 * them: its files are tile references, never whole frames.
 */
export async function leftOutFiles(dataset: string, holdoutFiles: readonly string[], classes: readonly string[]): Promise<{ cls: string; path: string }[]> {
  if (classes.length === 0) return [];
  const held = new Set(holdoutFiles.map((f) => path.join(dataset, ...holdoutFileParts(f))));
  const present = await scanDataset(dataset).catch(() => []);
  return present
    .filter((c) => classes.includes(c.name))
    .flatMap((c) => evenlyPicked(bankImagesOf(holdoutFiles, c.name, c.train).filter((f) => !held.has(f))).map((p) => ({ cls: c.name, path: p })));
}

/** A log line naming the classes calibrated with left-out bank images ("" when none). */
export function describeLeftOut(maps: readonly LeftOutMap[]): string {
  if (maps.length === 0) return "";
  return `${[...new Set(maps.map((l) => l.cls))].join(", ")}: fewer held-out normals than threshold.minClassNormals; scoring ${maps.length} of their bank images with their own rows left out for their thresholds`;
}
