/**
 * The first step of every job: features of the accepted frames, those that
 * cannot be read or decoded left out (listed, not fatal), the rest split into
 * the frames the job learns from and those it holds out for the threshold.
 */
import type { FeatureMap } from "../../model/types.js";
import type { ActiveModel } from "./active-model.js";
import { featuresOfFiles } from "./frame-features.js";
import { splitAccepted } from "./split-accepted.js";
import type { AcceptedFrame, JobContext } from "./types.js";

export interface AcceptedFeatures<Use extends string> {
  readonly learn: { frame: AcceptedFrame; map: FeatureMap }[];
  readonly holdout: { frame: AcceptedFrame; map: FeatureMap }[];
  readonly skipped: { sha256: string; reason: string }[];
  /** The candidate manifest's data snapshot: every accepted frame and what the job did with it. */
  readonly dataSnapshot: { job: "refresh" | "retrain"; accepted: { sha256: string; classTag?: string; use: Use | "holdout" | "skipped" }[] };
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
  const usable: { frame: AcceptedFrame; map: FeatureMap }[] = [];
  ctx.accepted.forEach((frame, i) => {
    const f = feats[i]!;
    if (f.ok) usable.push({ frame, map: f.map });
    else {
      uses.set(frame, "skipped");
      skipped.push({ sha256: frame.sha256, reason: f.reason });
      ctx.log.warn({ path: frame.path, reason: f.reason }, `${options.job}: accepted frame skipped`);
    }
  });
  const { learn, holdout } = splitAccepted(usable, options.holdoutFraction);
  for (const it of learn) uses.set(it.frame, options.learnUse);
  for (const it of holdout) uses.set(it.frame, "holdout");
  const accepted = ctx.accepted.map((f) => ({ sha256: f.sha256, ...(f.classTag !== undefined ? { classTag: f.classTag } : {}), use: uses.get(f) ?? ("skipped" as const) }));
  return { learn, holdout, skipped, dataSnapshot: { job: options.job, accepted } };
}
