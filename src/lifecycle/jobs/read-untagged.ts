/**
 * What the active model reads an untagged accepted frame as, so a job can
 * file it where the daemon judged it. A line that sends no class tags still
 * has its frames judged per class: by the threshold (and the detail weight
 * and edge profile) of the class their features read as, and by the context
 * search of the class whose W reached them (frame-scorer.ts
 * frameContextWeight). Without this a refresh or retrain counted such frames
 * for no class: their class's threshold was calibrated without them, and a
 * context bank never learned their look, so an accepted false alarm of a
 * context-weighted class was still raised after the refresh.
 *
 * Neither the main bank nor the class means use the reading: a frame's
 * class is read by them (the means, or in bundles without them the rows'
 * votes), and a misreading filed there would make the next frames of that
 * look misread more often (the realistic suite's kit frames read as
 * assembly 20 to 27 times in 44). Untagged rows stay UNTAGGED there, and
 * untagged frames stay out of the means.
 */
import { openScorer, scorerSettingsOf } from "../../pipeline/open-scorer.js";
import { frameContextClass, seedOfFeatures } from "../../pipeline/frame-scorer.js";
import { classWeightTable } from "../../model/scoring/detail-bank.js";
import { imageClassWeightsOf } from "../../model/scoring/detail-bank.js";
import { rowClassesPart } from "../../model/bundle.js";
import type { FeatureMap } from "../../model/types.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { ActiveModel } from "./active-model.js";

export interface UntaggedReading {
  /** The class the frame's features read as (the class whose threshold judges it); absent when no row voted. */
  readonly readAs?: string;
  /** The class whose context W served it (frameContextClass); absent when no context search did. */
  readonly contextClass?: string;
}

/**
 * The reading of each map whose frame has no class tag (undefined for tagged
 * frames, and for every frame when the bank records no row classes).
 */
export async function readUntagged(
  model: ActiveModel,
  items: readonly { readonly map: FeatureMap; readonly classTag?: string | undefined }[],
  options: { readonly signal?: AbortSignal; readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<(UntaggedReading | undefined)[]> {
  const classParts = rowClassesPart(model.bundle);
  const rowClasses = classParts.rowClasses;
  const out: (UntaggedReading | undefined)[] = items.map(() => undefined);
  if (!rowClasses || items.every((it) => it.classTag !== undefined)) return out;
  const m = model.manifest;
  const { c } = m.features;
  // The class means (or, in bundles without them, the main bank's nearest rows) decide the read class in every mode that searches; knn needs only that search.
  const { detail: _detail, context: _context, ...settings } = scorerSettingsOf(m);
  const opened = await openScorer("knn", { coreset: model.coreset, coresetSize: m.memory.coresetSize, c, ...classParts }, settings, model.sessionOptions);
  const cs = m.scoring.context;
  // A frame's context rows go to the class whose search served it, for its heatmap or its image score: the larger W of the two.
  const served = cs ? imageClassWeightsOf(cs) : undefined;
  const contextWeights = cs && served ? classWeightTable(rowClasses.names, Object.fromEntries(Object.entries(served).map(([cls, w]) => [cls, Math.max(w, cs.classWeights?.[cls] ?? cs.weight)])), cs.weight) : undefined;
  const total = items.filter((it) => it.classTag === undefined).length;
  let done = 0;
  try {
    for (let i = 0; i < items.length; i++) {
      const { map, classTag } = items[i]!;
      if (classTag !== undefined) continue;
      throwIfCancelled(options.signal, "reading untagged frames' classes");
      const { frameClass, classVotes } = await opened.scorer.positionScores(map, seedOfFeatures(map));
      const read = frameClass ?? -1;
      const ctx = contextWeights && classVotes ? frameContextClass(contextWeights, classVotes) : -1;
      out[i] = { ...(read >= 0 ? { readAs: rowClasses.names[read]! } : {}), ...(ctx >= 0 ? { contextClass: rowClasses.names[ctx]! } : {}) };
      options.onProgress?.(++done, total);
    }
  } finally {
    await opened.release();
  }
  return out;
}

/** Counts for a job's summary: untagged frames, and how many read as (or were served by the context of) each class. */
export function readingSummary(readings: readonly (UntaggedReading | undefined)[]): { frames: number; unread: number; readAs: Record<string, number>; contextClass: Record<string, number> } {
  const readAs: Record<string, number> = {};
  const contextClass: Record<string, number> = {};
  let frames = 0;
  let unread = 0;
  for (const r of readings) {
    if (!r) continue;
    frames++;
    if (r.readAs === undefined) unread++;
    else readAs[r.readAs] = (readAs[r.readAs] ?? 0) + 1;
    if (r.contextClass !== undefined) contextClass[r.contextClass] = (contextClass[r.contextClass] ?? 0) + 1;
  }
  return { frames, unread, readAs, contextClass };
}
