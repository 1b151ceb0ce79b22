/**
 * The report's tuning section: τ and K against pseudo-validation AUROC as
 * `lafite tune` recorded them in the manifest, beside the real test AUROC
 * re-scored at each grid point of those curves (τ in the τ curve's mode, at
 * the K it was swept at if any; K in the K curve's mode at the chosen τ), so one sees whether
 * pseudo-validation picked what the real defects would have picked. τ and K
 * were swept with the main bank alone, so they are re-scored with the detail
 * bank off (W 0); the detail bank's W curve, at the served τ and K.
 * Each point is re-scored with the image-score rule it was swept with: K's
 * curve holds both rules at every K, and τ was swept at the configured rule
 * (the record's defaults), which need not be the one served.
 */
import type { TuningRecord, TuningPoint } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { PARAM_NAMES, type TuningCurveReport, type TuningMetrics, type TuningReport } from "./report-data.js";
import { spearman } from "../../measures/rank-correlation.js";
import type { ImageScoreRule } from "../../model/scoring/anomaly-map.js";
import { otherAnomaliesScore } from "../../pipeline/tune/context-weight.js";

export interface TuningOverrides {
  readonly tau?: number;
  readonly deltaT?: number;
  readonly k?: number;
  readonly imageScore?: ImageScoreRule;
  /** The detail bank's weight (0: the main bank alone). */
  readonly detailWeight?: number;
}

/** Scores the whole test set with these settings; resolves to the mean over classes. */
export type TuningScorer = (mode: ScoringMode, overrides: TuningOverrides) => Promise<TuningMetrics>;

export interface TuningOptions {
  /** Null: do not re-score (--no-tuning-curves), and say why in `skipNote`. */
  readonly scorer: TuningScorer | null;
  readonly skipNote?: string;
  readonly log?: (msg: string) => void;
}

export async function tuningReport(record: TuningRecord | undefined, o: TuningOptions): Promise<TuningReport> {
  if (!record) return { state: "absent" };
  const notes: string[] = o.scorer ? [] : [o.skipNote ?? "test-set curves were not computed"];
  const { tau: chosenTau, deltaT: chosenDeltaT } = record.tau.chosen;
  const sweep = async <P extends TuningPoint>(param: TuningCurveReport["param"], mode: ScoringMode, curve: readonly P[], chosen: number, overrides: (p: P) => TuningOverrides): Promise<TuningCurveReport> => {
    const points: TuningCurveReport["points"][number][] = [];
    let scorer = o.scorer;
    const name = PARAM_NAMES[param];
    for (const [i, p] of curve.entries()) {
      const value = param === "tau" ? p.tau : param === "k" ? p.k : (p as TuningPoint & { weight?: number }).weight;
      if (value === undefined) continue; // a point without the swept value cannot be placed on the axis
      let test: TuningMetrics | null = null;
      if (scorer) {
        try {
          o.log?.(`eval report: ${name} = ${value} (${i + 1}/${curve.length}), re-scoring the test set in ${mode} mode`);
          test = await scorer(mode, overrides(p));
        } catch (err) {
          if ((err as { code?: string }).code === "CANCELLED") throw err;
          notes.push(`${name} curve: re-scoring in ${mode} mode failed (${(err as Error).message}); the rest of that curve is pseudo-validation only`);
          scorer = null;
        }
      }
      const rule = overrides(p).imageScore;
      points.push({ value, ...(rule ? { rule } : {}), pseudo: { image_auroc: p.image_auroc, pixel_auroc: p.pixel_auroc }, test });
    }
    return { param, mode, chosen, points };
  };
  // Only bundles with a detail-bank sweep are re-scored with it off: older bundles' loaders know no such override.
  const mainAlone = record.detail ? { detailWeight: 0 } : {};
  // Records before the rule sweep name no rule: their points are re-scored with the served one, as before.
  const ruleOf = (p: TuningPoint) => {
    const rule = p.imageScore ?? record.final?.defaults.imageScore;
    return rule ? { imageScore: rule } : {};
  };
  const tau = await sweep("tau", record.tau.mode, record.tau.curve, chosenTau, (p) => ({ tau: p.tau!, deltaT: p.deltaT ?? chosenDeltaT, ...(p.k !== undefined ? { k: p.k } : {}), ...ruleOf(p), ...mainAlone }));
  const k = await sweep("k", record.k.mode, record.k.curve, record.k.chosen, (p) => ({ tau: p.tau ?? chosenTau, deltaT: p.deltaT ?? chosenDeltaT, k: p.k!, ...ruleOf(p), ...mainAlone }));
  const detail = record.detail ? await sweep("detailWeight", record.detail.mode, record.detail.curve, record.detail.chosen, (p) => ({ detailWeight: p.weight })) : undefined;
  const pairsOf = (points: TuningCurveReport["points"]) => points.flatMap((p) => (p.pseudo.image_auroc !== null && p.test?.image_auroc != null ? [[p.pseudo.image_auroc, p.test.image_auroc] as const] : []));
  const rho = (pairs: ReturnType<typeof pairsOf>) => spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
  const pairs = pairsOf([...tau.points, ...k.points]);
  const f = record.final;
  const kept = f ? (f.kept === "tuned" ? f.tuned : f.defaults) : undefined;
  const served = f && kept?.k !== undefined ? { ...(kept.tau !== undefined ? { tau: kept.tau } : {}), k: kept.k, ...(kept.imageScore ? { rule: kept.imageScore } : {}), kept: f.kept } : undefined;
  return {
    state: "present",
    ...(served ? { served } : {}),
    rankCorrelation: { spearman: rho(pairs), points: pairs.length, tau: rho(pairsOf(tau.points)), k: rho(pairsOf(k.points)) },
    seed: record.seed,
    perClass: record.perClass,
    images: record.images,
    tau,
    k,
    ...(detail ? { detail } : {}),
    ...(record.detail?.classes ? { detailClasses: Object.fromEntries(Object.entries(record.detail.classes).map(([cls, r]) => [cls, { chosen: r.chosen, curve: r.curve.map((p) => ({ weight: p.weight, aupro: p.aupro })) }])) } : {}),
    ...(record.context ? { contextClasses: contextClassesOf(record.context) } : {}),
    ...(record.edges ? { edges: record.edges } : {}),
    ...(record.profiles ? { profiles: record.profiles } : {}),
    ...(notes.length ? { testNote: notes.join("; ") } : {}),
  };
}

/** The context bank's sweep per class as the report shows it. */
function contextClassesOf(c: NonNullable<TuningRecord["context"]>): NonNullable<Extract<TuningReport, { state: "present" }>["contextClasses"]> {
  const classes = Object.fromEntries(
    Object.entries(c.classes).map(([cls, r]) => [cls, { swaps: c.swaps[cls] ?? 0, chosen: r.chosen, imageChosen: r.imageChosen ?? r.chosen, curve: r.curve.map((p) => ({ weight: p.weight, swapsAuroc: p.swaps_auroc, others: otherAnomaliesScore(p) })) }]),
  );
  return { lambda: c.lambda, margin: c.margin, tolerance: c.tolerance, classes };
}
