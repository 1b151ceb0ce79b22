/**
 * Verdict thresholds: a frame is NG when its score is above the threshold.
 * Three rules, all from data a line has at install time (no real defects):
 *   normal-quantile   a quantile of held-out normal scores (the original rule);
 *   pseudo-f1         the threshold with the best F1 on the pseudo-validation
 *                     set (held-out normals against synthesized anomalies);
 *   false-alarm-rate  a target false-alarm rate on held-out normals. A few
 *                     dozen normals cannot resolve 0.5% empirically, so the
 *                     tail is also estimated from a log-normal fit and the
 *                     higher of the two is used.
 */
import { BANK_MODES, type ScoringMode } from "../types.js";

export type ThresholdRule = "normal-quantile" | "pseudo-f1" | "false-alarm-rate";
export const THRESHOLD_RULES: readonly ThresholdRule[] = ["normal-quantile", "pseudo-f1", "false-alarm-rate"];

/** Linear-interpolated quantile of unsorted values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error("quantile of an empty list");
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export interface F1Choice {
  readonly value: number;
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * The threshold maximizing F1 of "score > threshold" for anomalies against
 * normals. Candidates sit midway between consecutive distinct scores (and
 * just below the lowest), so the choice does not hug one sample. Among equal
 * F1, the highest threshold wins: fewer false alarms for the same catch.
 */
export function f1OptimalThreshold(normals: readonly number[], anomalies: readonly number[]): F1Choice {
  if (anomalies.length === 0) throw new Error("F1-optimal threshold needs at least one anomalous score");
  const all = [...normals.map((s) => ({ s, a: 0 })), ...anomalies.map((s) => ({ s, a: 1 }))].sort((x, y) => y.s - x.s);
  let tp = 0;
  let fp = 0;
  let best: F1Choice | undefined;
  // Walk from the highest score down; after taking every item with score ≥ all[i].s, the threshold lies below all[i].s.
  for (let i = 0; i < all.length; i++) {
    if (all[i]!.a) tp++;
    else fp++;
    if (i + 1 < all.length && all[i + 1]!.s === all[i]!.s) continue; // ties move together
    const next = i + 1 < all.length ? all[i + 1]!.s : all[i]!.s - Math.max(Math.abs(all[i]!.s) * 1e-6, 1e-12);
    const value = (all[i]!.s + next) / 2;
    const precision = tp / (tp + fp);
    const recall = tp / anomalies.length;
    const f1 = tp === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (best === undefined || f1 > best.f1) best = { value, f1, precision, recall };
  }
  return best!;
}

/** Φ⁻¹(p), Acklam's rational approximation (relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normal quantile of ${p}: p must be in (0, 1)`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

export interface FalseAlarmChoice {
  readonly value: number;
  /** The empirical (1 − rate) quantile of the normals. */
  readonly empirical: number;
  /** The (1 − rate) quantile of a log-normal fitted to the normals. */
  readonly lognormal: number;
}

/**
 * The threshold for a target false-alarm rate on normal images. Anomaly
 * scores are non-negative and right-skewed, so their logs are close to
 * normal; the log-normal tail extrapolates past the largest held-out score
 * when there are too few normals to see a 0.5% tail directly.
 */
export function falseAlarmThreshold(normals: readonly number[], rate: number): FalseAlarmChoice {
  if (normals.length === 0) throw new Error("false-alarm threshold needs held-out normal scores");
  if (!(rate > 0 && rate < 1)) throw new Error(`false-alarm rate ${rate} must be in (0, 1)`);
  const empirical = quantile(normals, 1 - rate);
  const floor = Math.max(1e-12, Math.min(...normals.filter((s) => s > 0), Number.POSITIVE_INFINITY) * 1e-3);
  const logs = normals.map((s) => Math.log(Math.max(s, floor)));
  const mu = logs.reduce((a, b) => a + b, 0) / logs.length;
  const sd = logs.length > 1 ? Math.sqrt(logs.reduce((a, b) => a + (b - mu) ** 2, 0) / (logs.length - 1)) : 0;
  const lognormal = Math.exp(mu + normalQuantile(1 - rate) * sd);
  return { value: Math.max(empirical, lognormal), empirical, lognormal };
}

export interface ThresholdInfo {
  readonly value: number;
  /** Absent in bundles made before rules existed: those used normal-quantile. */
  readonly rule?: ThresholdRule;
  readonly method: string;
  readonly holdoutImages: number;
  readonly holdoutScores: { readonly min: number; readonly median: number; readonly max: number };
  /** How the threshold does on the pseudo-validation set, when one was scored. */
  readonly pseudo?: { readonly anomalies: number; readonly f1: number; readonly precision: number; readonly recall: number; readonly falseAlarmRate: number };
  /** Each class's own threshold by the same rule (threshold.perClass), for the classes with enough held-out normals; the others use `value`. */
  readonly classes?: Readonly<Record<string, ClassThreshold>>;
}

/** One class's threshold, and how many of its held-out normals (and synthesized anomalies) it was calibrated on. */
export interface ClassThreshold {
  readonly value: number;
  readonly holdoutImages: number;
  /** Training images in the bank scored with their own rows left out, calibrated on beside the held-out normals (classThresholds); absent = none. */
  readonly leftOutImages?: number;
  readonly pseudo?: ThresholdInfo["pseudo"];
}

export interface ThresholdParams {
  readonly rule: ThresholdRule;
  /** normal-quantile: the quantile of held-out normal scores. */
  readonly quantile: number;
  /** false-alarm-rate: the target rate on normal images. */
  readonly falseAlarmRate: number;
  /** Also a threshold per class (classThresholds); absent = false. */
  readonly perClass?: boolean;
  /** The fewest held-out normals a class needs for its own threshold (default 10). */
  readonly minClassNormals?: number;
}

/** A scored held-out or pseudo-validation image, by its true class. */
export interface ClassScore {
  readonly cls: string;
  readonly anomalous: boolean;
  readonly score: number;
  /** A normal training image of the bank scored with its own rows left out (FrameScorer leaveOut), not a held-out one. */
  readonly leftOut?: boolean;
}

export const DEFAULT_MIN_CLASS_NORMALS = 10;

/**
 * `t`, mode `mode`'s threshold, with its per-class thresholds over `samples`
 * when params.perClass asks for them, the mode can read a frame's class
 * (BANK_MODES: no-edit does not search the bank) and some class qualifies.
 */
export function withClassThresholds(params: ThresholdParams, mode: ScoringMode, t: ThresholdInfo, samples: readonly ClassScore[]): ThresholdInfo {
  const classes = perClassApplies(params, mode) ? classThresholds(params, samples) : undefined;
  return classes ? { ...t, classes } : t;
}

/** Per-class thresholds are asked for and the mode can read a frame's class (BANK_MODES: no-edit does not search the bank). */
function perClassApplies(params: ThresholdParams, mode: ScoringMode): boolean {
  return params.perClass === true && BANK_MODES.includes(mode);
}

/** `samples`' scores by true class, held-out normals, left-out bank images and anomalies apart, classes in name order. */
function scoresByClass(samples: readonly ClassScore[]): [string, { normals: number[]; leftOut: number[]; anomalies: number[] }][] {
  const byClass = new Map<string, { normals: number[]; leftOut: number[]; anomalies: number[] }>();
  for (const s of samples) {
    let entry = byClass.get(s.cls);
    if (!entry) byClass.set(s.cls, (entry = { normals: [], leftOut: [], anomalies: [] }));
    (s.anomalous ? entry.anomalies : s.leftOut ? entry.leftOut : entry.normals).push(s.score);
  }
  return [...byClass].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The classes of `samples` that `t` gives no threshold of their own although
 * per-class thresholds were asked for, with their held-out normal counts:
 * they are judged by the model's threshold, which the classes whose normals
 * score highest set, so the log names them (a class of 25 training images
 * holds out 2 or 3). Empty when per-class thresholds are off or the mode
 * cannot read a frame's class.
 */
export function classesOnModelThreshold(params: ThresholdParams, mode: ScoringMode, t: ThresholdInfo, samples: readonly ClassScore[]): { cls: string; normals: number }[] {
  if (!perClassApplies(params, mode)) return [];
  return scoresByClass(samples)
    .filter(([cls]) => t.classes?.[cls] === undefined)
    .map(([cls, { normals }]) => ({ cls, normals: normals.length }));
}

/**
 * Each class's threshold by `params.rule` over its own held-out normals (and
 * its synthesized anomalies, for pseudo-f1), for the classes with at least
 * `minClassNormals` normals (and an anomaly, for pseudo-f1); undefined when
 * none qualifies. normal-quantile q is taken as a false-alarm rate of 1 − q,
 * the higher of the empirical quantile and the log-normal tail's.
 *
 * Why: one unified model's classes score on different scales, and one
 * threshold over all their normals is set by the class whose normals score
 * highest. On the realistic suite (3 fits, normal-quantile 0.99) the logical
 * class, at image AUROC 100, caught 0, 1 and 3 of its 24 defects; with its
 * own threshold, all 24 and no false alarm. A class with fewer normals than
 * that cannot place its own tail at all, so it keeps the model's threshold.
 */
export function classThresholds(params: ThresholdParams, samples: readonly ClassScore[]): Record<string, ClassThreshold> | undefined {
  const min = params.minClassNormals ?? DEFAULT_MIN_CLASS_NORMALS;
  // A class has a few dozen normals, too few to place a 1 % quantile empirically (at 25 it is their maximum, which one
  // normal in 26 exceeds), so a quantile gets the log-normal tail's guard as the false-alarm-rate rule does.
  const rule: ThresholdParams = params.rule === "normal-quantile" && params.quantile < 1 ? { ...params, rule: "false-alarm-rate", falseAlarmRate: 1 - params.quantile } : params;
  const out: Record<string, ClassThreshold> = {};
  for (const [cls, { normals: heldOut, leftOut, anomalies }] of scoresByClass(samples)) {
    // Left-out bank images stand in for held-out normals only where those are too few: they score a little higher than
    // held-out ones (the coreset was chosen with them in), so a class with enough held-out normals is calibrated on those alone.
    const normals = heldOut.length >= min ? heldOut : [...heldOut, ...leftOut];
    if (normals.length < min || (params.rule === "pseudo-f1" && anomalies.length === 0)) continue;
    const t = calibrateThreshold(rule, normals, anomalies);
    const used = normals.length - heldOut.length;
    out[cls] = { value: t.value, holdoutImages: heldOut.length, ...(used > 0 ? { leftOutImages: used } : {}), ...(t.pseudo ? { pseudo: t.pseudo } : {}) };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The verdict threshold by `params.rule` from held-out normal scores and, for pseudo-f1, the pseudo anomalies' scores. */
export function calibrateThreshold(params: ThresholdParams, normals: readonly number[], anomalies: readonly number[] = []): ThresholdInfo {
  if (normals.length === 0) throw new Error("threshold calibration needs held-out normal scores");
  const sorted = [...normals].sort((a, b) => a - b);
  let value: number;
  let method: string;
  switch (params.rule) {
    case "normal-quantile":
      value = quantile(sorted, params.quantile);
      method = `quantile ${params.quantile} of held-out normal image scores`;
      break;
    case "pseudo-f1": {
      if (anomalies.length === 0) throw new Error("the pseudo-f1 threshold rule needs a pseudo-validation set (fit without --no-tune, or run lafite tune)");
      const best = f1OptimalThreshold(sorted, anomalies);
      value = best.value;
      method = `F1-optimal on the pseudo-validation set (${anomalies.length} synthesized anomalies, ${sorted.length} held-out normals)`;
      break;
    }
    case "false-alarm-rate": {
      const far = falseAlarmThreshold(sorted, params.falseAlarmRate);
      value = far.value;
      method = `false-alarm rate ${params.falseAlarmRate} on held-out normals (empirical ${far.empirical.toPrecision(5)}, log-normal tail ${far.lognormal.toPrecision(5)}; the higher)`;
      break;
    }
  }
  return {
    value,
    rule: params.rule,
    method,
    holdoutImages: sorted.length,
    holdoutScores: { min: sorted[0]!, median: quantile(sorted, 0.5), max: sorted.at(-1)! },
    ...(anomalies.length > 0 ? { pseudo: verdictStats(value, sorted, anomalies) } : {}),
  };
}

function verdictStats(threshold: number, normals: readonly number[], anomalies: readonly number[]): NonNullable<ThresholdInfo["pseudo"]> {
  const tp = anomalies.filter((s) => s > threshold).length;
  const fp = normals.filter((s) => s > threshold).length;
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp / anomalies.length;
  return { anomalies: anomalies.length, f1: tp === 0 ? 0 : (2 * precision * recall) / (precision + recall), precision, recall, falseAlarmRate: fp / normals.length };
}
