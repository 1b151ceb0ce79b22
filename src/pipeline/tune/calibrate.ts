/**
 * Verdict thresholds for every mode a bundle serves, from the pseudo-
 * validation set scored at the chosen settings: its normals are the held-out
 * training images; its anomalies feed the pseudo-f1 rule and the F1 / false-
 * alarm figures recorded beside every threshold.
 */
import type * as ort from "onnxruntime-node";
import type { ScoringMode } from "../../model/types.js";
import { calibrateThreshold, classesOnModelThreshold, DEFAULT_MIN_CLASS_NORMALS, withClassThresholds, type ThresholdInfo, type ThresholdParams } from "../../model/scoring/threshold.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { scorePseudoSet } from "./score-set.js";
import { leftOutScores, type LeftOutMap } from "./left-out.js";

/** The set's image scores in one mode, already computed at the settings being calibrated. */
export interface ScoredSet {
  readonly mode: ScoringMode;
  readonly scores: readonly number[];
}

export async function calibrateModes(
  set: readonly PseudoFeature[],
  parts: ScorerParts,
  settings: ScorerSettings,
  modes: readonly ScoringMode[],
  params: ThresholdParams,
  sessionOptions: ort.InferenceSession.SessionOptions,
  options: {
    signal?: AbortSignal;
    log?: (msg: string) => void;
    scored?: readonly ScoredSet[];
    /** Bank images of the classes short of held-out normals, scored with their own rows left out for those classes' thresholds (left-out.ts). */
    leftOut?: readonly LeftOutMap[];
  } = {},
): Promise<Partial<Record<ScoringMode, ThresholdInfo>>> {
  const out: Partial<Record<ScoringMode, ThresholdInfo>> = {};
  for (const mode of modes) {
    let scores: readonly number[];
    let reads: readonly (string | undefined)[] | undefined;
    // A mode with position profiles is scored here: its samples need the class each frame reads as (calibratesOwnClass).
    const reuse = settings.profiles?.mode === mode ? undefined : options.scored?.find((k) => k.mode === mode && k.scores.length === set.length);
    if (reuse) {
      // Tuning already scored the set at exactly these settings in this mode.
      scores = reuse.scores;
    } else {
      const opened = await openScorer(mode, parts, settings, sessionOptions);
      try {
        ({ scores, reads } = await scorePseudoSet(set, opened.scorer, options.signal ? { signal: options.signal } : {}));
      } finally {
        await opened.release();
      }
    }
    const wide = modelWide(set, settings, mode);
    const normals = scores.filter((_, i) => wide[i] && !set[i]!.anomalous);
    const anomalies = scores.filter((_, i) => wide[i] && set[i]!.anomalous);
    const leftOut = params.perClass && options.leftOut?.length ? await leftOutScores(options.leftOut, parts, settings, mode, sessionOptions, { ...(options.signal ? { signal: options.signal } : {}), ...(options.log ? { log: options.log } : {}) }) : [];
    const samples = [...set.flatMap((f, i) => (calibratesOwnClass(f.cls, reads?.[i], settings, mode) ? [{ cls: f.cls, anomalous: f.anomalous, score: scores[i]! }] : [])), ...leftOut];
    const t = withClassThresholds(params, mode, calibrateThreshold(params, normals, anomalies), samples);
    out[mode] = t;
    const p = t.pseudo;
    options.log?.(`${mode} threshold ${t.value.toPrecision(5)} (${t.method})${p ? `: pseudo-validation F1 ${p.f1.toFixed(3)}, recall ${p.recall.toFixed(3)}, false alarms ${(100 * p.falseAlarmRate).toFixed(1)}%` : ""}${describeClassThresholds(t)}${describeModelThresholdClasses(params, classesOnModelThreshold(params, mode, t, samples))}`);
  }
  return out;
}

/** The per-class thresholds of a ThresholdInfo for a log line ("" without). */
export function describeClassThresholds(t: ThresholdInfo): string {
  return t.classes ? `; per class ${Object.entries(t.classes).map(([cls, c]) => `${cls} ${c.value.toPrecision(5)}${c.leftOutImages ? ` (${c.holdoutImages} held out + ${c.leftOutImages} bank images left out)` : ""}`).join(", ")}` : "";
}

/** The classes judged by the model's threshold for want of held-out normals, for a log line ("" without). */
export function describeModelThresholdClasses(params: ThresholdParams, classes: readonly { cls: string; normals: number }[]): string {
  if (classes.length === 0) return "";
  const min = params.minClassNormals ?? DEFAULT_MIN_CLASS_NORMALS;
  const few = params.rule === "pseudo-f1" ? `under threshold.minClassNormals ${min}, or no anomaly` : `under threshold.minClassNormals ${min}`;
  return `; on the model's threshold (${few}): ${classes.map((c) => `${c.cls} (${c.normals} held-out normal${c.normals === 1 ? "" : "s"})`).join(", ")}`;
}

/**
 * Whether a frame of class `label` calibrates that class's threshold: not when the class's scores are standardized by
 * its position profile in this mode and the frame reads as another class (`read`). Served, that frame is judged by the
 * other class's threshold, in that class's units; in its own class's sample its score, not in the profile's units,
 * would set the threshold (one raw score among standardized ones is its class's 0.99 quantile). Nor does it calibrate
 * the model's threshold (modelWide: its class is profiled). Tuning profiles no class some of whose held-out normals
 * read as another (tune/position-profile.ts), but a lifecycle job calibrates on accepted frames too, which can.
 * Frames that read as their class, or of a class without a profile, calibrate as before.
 */
export function calibratesOwnClass(label: string | undefined, read: string | undefined, settings: Pick<ScorerSettings, "profiles">, mode: ScoringMode): boolean {
  const profiled = settings.profiles?.mode === mode ? settings.profiles.classes : undefined;
  if (!profiled || label === undefined || !(label in profiled)) return true;
  return read === undefined || read === label;
}

/**
 * Which samples the model's threshold is calibrated on: all of them, unless some classes' scores are standardized by
 * their position profile in this mode. Those are in units of their normals' spread, not of the map, and every such
 * class has its own threshold (tuning profiles only classes with enough held-out normals, and only with per-class
 * thresholds); the model's threshold is for the frames of the other classes, so it is calibrated on theirs, or on
 * every sample when no other class has a normal. `cls` undefined: a frame of unknown class, calibrated on.
 */
export function modelWide(samples: readonly { readonly cls?: string | undefined; readonly anomalous: boolean }[], settings: Pick<ScorerSettings, "profiles">, mode: ScoringMode): boolean[] {
  const profiled = settings.profiles?.mode === mode ? settings.profiles.classes : undefined;
  const others = samples.map((f) => !profiled || f.cls === undefined || !(f.cls in profiled));
  return others.some((o, i) => o && !samples[i]!.anomalous) ? others : samples.map(() => true);
}
