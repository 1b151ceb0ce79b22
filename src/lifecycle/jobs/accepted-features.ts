/**
 * The first step of every job: features of the accepted frames, those that
 * cannot be read or decoded left out (listed, not fatal), the rest split into
 * the frames the job learns from and those it holds out for the threshold;
 * each untagged one with what the active model reads it as (read-untagged.ts).
 */
import type { FeatureMap } from "../../model/types.js";
import type { ActiveModel } from "./active-model.js";
import { featuresOfFiles } from "./frame-features.js";
import { splitAccepted } from "./split-accepted.js";
import type { AcceptedFrame, JobContext } from "./types.js";
import { readUntagged, readingSummary, type UntaggedReading } from "./read-untagged.js";

/** An accepted frame's features; an untagged one's reading by the active model, when its bank records row classes. */
export interface AcceptedMap {
  readonly frame: AcceptedFrame;
  readonly map: FeatureMap;
  readonly reading?: UntaggedReading;
}

/** The class a job counts a frame for where a class is needed (thresholds, edge profiles): its tag, else the class it reads as. */
export const judgedClassOf = (it: AcceptedMap): string | undefined => it.frame.classTag ?? it.reading?.readAs;

export interface AcceptedFeatures<Use extends string> {
  readonly learn: AcceptedMap[];
  readonly holdout: AcceptedMap[];
  readonly skipped: { sha256: string; reason: string }[];
  /** The candidate manifest's data snapshot: every accepted frame and what the job did with it (an untagged one: what it read as). */
  readonly dataSnapshot: { job: "refresh" | "retrain"; accepted: { sha256: string; classTag?: string; readAs?: string; use: Use | "holdout" | "skipped" }[] };
  /** The untagged frames' readings, counted for the job's summary. */
  readonly untagged: ReturnType<typeof readingSummary>;
}

export async function acceptedFeatures<Use extends string>(
  model: ActiveModel,
  ctx: JobContext,
  options: { job: "refresh" | "retrain"; what: string; holdoutFraction: number; learnUse: Use },
): Promise<AcceptedFeatures<Use>> {
  const feats = await featuresOfFiles(model, ctx.accepted, {
    signal: ctx.signal,
    what: options.what,
    onProgress: (done) => ctx.progress(done, ctx.accepted.length, `${options.job}: features of accepted frames`),
  });
  const uses = new Map<AcceptedFrame, Use | "holdout" | "skipped">();
  const skipped: { sha256: string; reason: string }[] = [];
  const found: { frame: AcceptedFrame; map: FeatureMap }[] = [];
  ctx.accepted.forEach((frame, i) => {
    const f = feats[i]!;
    if (f.ok) found.push({ frame, map: f.map });
    else {
      uses.set(frame, "skipped");
      skipped.push({ sha256: frame.sha256, reason: f.reason });
      ctx.log.warn({ path: frame.path, reason: f.reason }, `${options.job}: accepted frame skipped`);
    }
  });
  const readings = await readUntagged(model, found.map((it) => ({ map: it.map, classTag: it.frame.classTag })), {
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress(done, total, `${options.job}: reading the classes of untagged accepted frames`),
  });
  const usable: AcceptedMap[] = found.map((it, i) => (readings[i] ? { ...it, reading: readings[i] } : it));
  const readAs = new Map(usable.flatMap((it) => (it.reading?.readAs !== undefined ? [[it.frame, it.reading.readAs] as const] : [])));
  const { learn, holdout } = splitAccepted(usable, options.holdoutFraction, judgedClassOf);
  for (const it of learn) uses.set(it.frame, options.learnUse);
  for (const it of holdout) uses.set(it.frame, "holdout");
  const accepted = ctx.accepted.map((f) => ({ sha256: f.sha256, ...(f.classTag !== undefined ? { classTag: f.classTag } : {}), ...(readAs.has(f) ? { readAs: readAs.get(f)! } : {}), use: uses.get(f) ?? ("skipped" as const) }));
  const untagged = readingSummary(readings);
  if (untagged.frames > 0) ctx.log.info(untagged, `${options.job}: untagged accepted frames read by the active model`);
  return { learn, holdout, skipped, dataSnapshot: { job: options.job, accepted }, untagged };
}
