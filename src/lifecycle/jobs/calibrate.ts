/**
 * Threshold re-calibration for a candidate, by the parent's configured rule
 * (src/model/scoring/threshold.ts), over fit's
 * held-out training images (manifest provenance.holdoutFiles, relative to
 * provenance.dataset) plus the accepted frames the job held out, scored with
 * the candidate's own parts for every mode the parent had a threshold for.
 * Classes short of held-out normals are also calibrated on their bank images
 * scored with their own rows left out, as fit does (pipeline/tune/left-out.ts).
 */
import { withScoreMemo } from "../../pipeline/score-memo.js";
import { edgeRemeasureWork, remeasureEdges } from "../../pipeline/tune/edge-correction.js";
import type { EdgeProfiles } from "../../model/scoring/edge-profile.js";
import { remeasureSizes, sizeRemeasureWork } from "../../pipeline/tune/size-correction.js";
import type { SizeTrends } from "../../model/scoring/size-trend.js";
import { profileRemeasureWork, remeasureProfiles } from "../../pipeline/tune/position-profile.js";
import type { PositionProfiles } from "../../model/scoring/position-profile.js";
import { join } from "node:path";
import type { ThresholdInfo } from "../../model/bundle.js";
import type { FeatureMap, ScoringMode } from "../../model/types.js";
import { openScorer, scorerSettingsOf, type ScorerParts, type ScorerSettings } from "../../pipeline/open-scorer.js";
import { calibrateThreshold, withClassThresholds } from "../../model/scoring/threshold.js";
import { parseModelConfig } from "../../model/model-config.js";
import { BANK_MODES, DIFFUSION_MODES } from "../../model/types.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { ActiveModel } from "./active-model.js";
import { featuresOfFiles } from "./frame-features.js";
import { holdoutFileParts } from "../../image/pseudo/holdout.js";
import { detailTuneWork, remeasureDetail } from "../../pipeline/tune/detail-weight.js";
import { DETAIL_MODES, detailInUse, type DetailScoring } from "../../model/scoring/detail-bank.js";
import { contextInUse, type ContextScoring } from "../../model/scoring/context-bank.js";
import { classesShortOfNormals, leftOutFiles, leftOutScores, type LeftOutMap } from "../../pipeline/tune/left-out.js";
import { calibratesOwnClass, modelWide } from "../../pipeline/tune/calibrate.js";
import type { ClassScore } from "../../model/scoring/threshold.js";

/**
 * Fit's held-out normals, re-extracted from the data set they came from, and
 * each one's class (the first folder of its path in the MVTec layout);
 * missing files are reported, not fatal.
 */
export async function baseHoldoutMaps(model: ActiveModel, signal: AbortSignal | undefined, onProgress?: (done: number, total: number) => void): Promise<{ maps: FeatureMap[]; classes: string[]; missing: number; listed: number }> {
  const p = model.manifest.provenance;
  const listed = p.holdoutFiles ?? [];
  const got = await featuresOfFiles(model, listed.map((f) => ({ path: join(p.dataset, f) })), { ...(signal ? { signal } : {}), what: "threshold calibration", ...(onProgress ? { onProgress: (done: number) => onProgress(done, listed.length) } : {}) });
  const maps: FeatureMap[] = [];
  const classes: string[] = [];
  got.forEach((g, i) => {
    if (!g.ok) return;
    maps.push(g.map);
    classes.push(holdoutFileParts(listed[i]!)[0]!);
  });
  return { maps, classes, missing: listed.length - maps.length, listed: listed.length };
}

export function modesOf(model: ActiveModel, hasDenoiser: boolean): ScoringMode[] {
  const listed = Object.keys(model.manifest.thresholds ?? { [model.manifest.scoring.mode]: true }) as ScoringMode[];
  return listed.filter((m) => !DIFFUSION_MODES.includes(m) || hasDenoiser);
}

export interface ScoringOverrides {
  readonly k?: number;
  readonly tau?: number;
  readonly deltaT?: number;
}

/**
 * Thresholds for every mode; with a detail bank in use, its normalizers are
 * measured again on the same normals first (pipeline/tune/detail-weight.ts
 * remeasureDetail) and returned for the candidate's manifest.
 */
export async function calibrateThresholds(model: ActiveModel, parts: ScorerParts, holdout: readonly FeatureMap[], modes: readonly ScoringMode[], options: CalibrateOptions = {}): Promise<Calibrated> {
  if (holdout.length === 0) {
    throw new LafiteError(ErrorCode.BAD_DATASET, "no held-out normal image to calibrate the threshold: neither fit's held-out files (provenance.dataset) nor enough accepted frames to hold some out");
  }
  const m = model.manifest;
  const settings = scorerSettingsOf({ ...m, scoring: { ...m.scoring, ...options.overrides } });
  // The held-out maps are scored in several modes, and the edge correction's at the served setting again: the memo keeps each map's bank search and each setting's main pass.
  return withScoreMemo(parts, Math.max(1, settings.k), model.sessionOptions, (memoized) => calibrateWith(model, memoized, settings, holdout, modes, options));
}

interface CalibrateOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  overrides?: ScoringOverrides;
  /** Each held-out map's class, where known (untagged accepted frames: undefined): the per-class thresholds are calibrated on these. */
  classes?: readonly (string | undefined)[];
}

type Calibrated = { thresholds: Partial<Record<ScoringMode, ThresholdInfo>>; detail?: DetailScoring; context?: ContextScoring; edges?: EdgeProfiles; sizes?: SizeTrends; profiles?: PositionProfiles };

async function calibrateWith(model: ActiveModel, parts: ScorerParts, parentSettings: ScorerSettings, holdout: readonly FeatureMap[], modes: readonly ScoringMode[], options: CalibrateOptions): Promise<Calibrated> {
  const m = model.manifest;
  const rule = parseModelConfig(m.config).threshold;
  if (options.classes && options.classes.length !== holdout.length) throw new Error(`${options.classes.length} classes for ${holdout.length} held-out maps`);
  const classes = options.classes;
  const sz = classes && m.scoring.sizes && modes.includes(m.scoring.sizes.mode) ? m.scoring.sizes : undefined;
  const e = classes && m.scoring.edges && modes.includes(m.scoring.edges.mode) ? m.scoring.edges : undefined;
  const pr = classes && m.scoring.profiles && modes.includes(m.scoring.profiles.mode) ? m.scoring.profiles : undefined;
  const normals = holdout.map((x) => ({ cls: "", anomalous: false, x }));
  const leftOut = rule.perClass ? await leftOutMaps(model, rule, classes ?? [], options.signal) : [];
  const leftOutModes = modes.filter((mode) => leftOut.length > 0 && BANK_MODES.includes(mode));
  // With a detail bank: one pass per mode it blends into and one detail search per image, which also give those modes' scores.
  const contextOn = contextInUse(parentSettings.context) && parts.contextBank !== undefined;
  const detailModes = detailInUse(parentSettings.detail) || contextOn ? modes.filter((mode) => DETAIL_MODES.includes(mode)) : [];
  // The profiled mode's scores change with the profiles measured after the detail pass: it is scored again with them. So is
  // the sized mode: the detail pass's scores are taken without the size correction (a class whose heatmap alone has a
  // detail W, tuning.warps, puts the bank in use where its image score has none).
  const rest = modes.filter((mode) => !detailModes.includes(mode) || mode === pr?.mode || mode === sz?.mode);
  // And the size and edge corrections' and the position profiles' passes over the held-out maps of their classes.
  const corrections = (sz && classes ? sizeRemeasureWork(sz, holdout, classes) : 0) + (e && classes ? edgeRemeasureWork(e, classes) : 0) + (pr && classes ? profileRemeasureWork(pr, holdout, classes) : 0);
  const total = (detailModes.length ? detailTuneWork(holdout.length, detailModes, contextOn ? 0 : -1) : 0) + rest.length * holdout.length + leftOutModes.length * leftOut.length + corrections;
  let done = 0;
  const onScored = () => options.onProgress?.(++done, total);
  // The size correction's trends first, on the same normals: every score below, thresholds included, is taken with them.
  const sizes = sz && classes
    ? (await remeasureSizes({ sizes: sz, maps: holdout, classes, parts, settings: parentSettings, sessionOptions: model.sessionOptions, onScored, ...(options.signal ? { signal: options.signal } : {}) })).sizes
    : undefined;
  // Without the parent's profiles: the detail pass's maps are what the profiles are measured on again, below.
  const { profiles: _measuredAgain, ...unprofiled } = parentSettings;
  const settings = { ...(pr ? unprofiled : parentSettings), ...(sizes ? { sizes } : {}) };
  const remeasured = await remeasureDetail(normals, parts, settings, detailModes, m.scoring.mode, model.sessionOptions, {
    ...(options.signal ? { signal: options.signal } : {}),
    onScored,
  });
  // Scored with the detail normalizers just measured, as the candidate will serve.
  const detailed = { ...settings, ...(remeasured ? { detail: remeasured.detail } : {}), ...(remeasured?.context ? { context: remeasured.context } : {}) };
  // The position profiles on the same normals, with those normalizers; every score below is taken with them.
  const profiles = pr && classes
    ? (await remeasureProfiles({ profiles: pr, maps: holdout, classes, parts, settings: detailed, sessionOptions: model.sessionOptions, onScored, ...(options.signal ? { signal: options.signal } : {}) })).profiles
    : undefined;
  const served = { ...detailed, ...(profiles ? { profiles } : {}) };
  const leftOutSamples = new Map<ScoringMode, ClassScore[]>();
  for (const mode of leftOutModes) {
    leftOutSamples.set(mode, await leftOutScores(leftOut, parts, served, mode, model.sessionOptions, { ...(options.signal ? { signal: options.signal } : {}), onScored }));
  }
  // The model's threshold over every held-out map; each class's over the maps whose class is known, and its left-out bank images.
  // `reads`: the class each map read as, which a profiled mode's scores need (calibratesOwnClass).
  const calibrate = (mode: ScoringMode, scores: readonly number[], reads?: readonly (string | undefined)[]) => {
    const wide = modelWide(holdout.map((_, i) => ({ cls: classes?.[i], anomalous: false })), served, mode);
    const own = (i: number) => options.classes?.[i] !== undefined && calibratesOwnClass(options.classes[i], reads?.[i], served, mode);
    return withClassThresholds(rule, mode, calibrateThreshold(rule, scores.filter((_, i) => wide[i])), [
      ...scores.flatMap((score, i) => (own(i) ? [{ cls: options.classes![i]!, anomalous: false, score }] : [])),
      ...(leftOutSamples.get(mode) ?? []),
    ]);
  };
  const out: Partial<Record<ScoringMode, ThresholdInfo>> = {};
  for (const { mode, scores } of remeasured?.scored ?? []) if (!rest.includes(mode)) out[mode] = calibrate(mode, scores);
  for (const mode of rest) {
    const opened = await openScorer(mode, parts, served, model.sessionOptions);
    try {
      const scores: number[] = [];
      const reads: (string | undefined)[] = [];
      for (const x of holdout) {
        throwIfCancelled(options.signal, "threshold calibration");
        const scored = await opened.scorer.score(x);
        scores.push(scored.score);
        reads.push(scored.class);
        onScored();
      }
      // The parent's rule; pseudo-f1 needs a pseudo-validation set and says so.
      out[mode] = calibrate(mode, scores, reads);
    } finally {
      await opened.release();
    }
  }
  // The edge correction's profiles, on the same normals as the candidate serves them (the kept classes stay kept).
  const edges = e && classes
    ? (await remeasureEdges({ edges: e, maps: holdout, classes, parts, settings: served, sessionOptions: model.sessionOptions, onScored, ...(options.signal ? { signal: options.signal } : {}) })).edges
    : undefined;
  return { thresholds: out, ...(remeasured ? { detail: remeasured.detail } : {}), ...(remeasured?.context ? { context: remeasured.context } : {}), ...(edges ? { edges } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) };
}

/**
 * The bank images of fit's data set (provenance.dataset) of the classes with
 * fewer held-out normals than minClassNormals, among those the calibration
 * holds out (`heldOut`, a class per map, undefined for untagged frames).
 */
async function leftOutMaps(model: ActiveModel, rule: ReturnType<typeof parseModelConfig>["threshold"], heldOut: readonly (string | undefined)[], signal: AbortSignal | undefined): Promise<LeftOutMap[]> {
  const p = model.manifest.provenance;
  const short = classesShortOfNormals(rule, heldOut.filter((c): c is string => c !== undefined), Object.keys(p.classes));
  const files = await leftOutFiles(p.dataset, p.holdoutFiles ?? [], short);
  const got = await featuresOfFiles(model, files.map((f) => ({ path: f.path })), { ...(signal ? { signal } : {}), what: "threshold calibration" });
  return got.flatMap((g, i) => (g.ok ? [{ cls: files[i]!.cls, x: g.map }] : []));
}
