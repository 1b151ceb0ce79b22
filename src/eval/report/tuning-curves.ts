/**
 * The report's tuning section: τ and K against pseudo-validation AUROC as
 * `lafite tune` recorded them in the manifest, beside the real test AUROC
 * re-scored at each grid point of those curves (τ in the τ curve's mode, at
 * the K it was swept at if any; K in the K curve's mode at the chosen τ), so one sees whether
 * pseudo-validation picked what the real defects would have picked.
 */
import type { TuningRecord, TuningPoint } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import type { TuningCurveReport, TuningMetrics, TuningReport } from "./report-data.js";
import { spearman } from "../rank-correlation.js";

export interface TuningOverrides {
  readonly tau?: number;
  readonly deltaT?: number;
  readonly k?: number;
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
  const sweep = async (param: "tau" | "k", mode: ScoringMode, curve: readonly TuningPoint[], chosen: number, overrides: (p: TuningPoint) => TuningOverrides): Promise<TuningCurveReport> => {
    const points: TuningCurveReport["points"][number][] = [];
    let scorer = o.scorer;
    for (const [i, p] of curve.entries()) {
      const value = param === "tau" ? p.tau : p.k;
      if (value === undefined) continue; // a point without the swept value cannot be placed on the axis
      let test: TuningMetrics | null = null;
      if (scorer) {
        try {
          o.log?.(`eval report: ${param === "tau" ? "τ" : "K"} = ${value} (${i + 1}/${curve.length}), re-scoring the test set in ${mode} mode`);
          test = await scorer(mode, overrides(p));
        } catch (err) {
          if ((err as { code?: string }).code === "CANCELLED") throw err;
          notes.push(`${param === "tau" ? "τ" : "K"} curve: re-scoring in ${mode} mode failed (${(err as Error).message}); the rest of that curve is pseudo-validation only`);
          scorer = null;
        }
      }
      points.push({ value, pseudo: { image_auroc: p.image_auroc, pixel_auroc: p.pixel_auroc }, test });
    }
    return { param, mode, chosen, points };
  };
  const tau = await sweep("tau", record.tau.mode, record.tau.curve, chosenTau, (p) => ({ tau: p.tau!, deltaT: p.deltaT ?? chosenDeltaT, ...(p.k !== undefined ? { k: p.k } : {}) }));
  const k = await sweep("k", record.k.mode, record.k.curve, record.k.chosen, (p) => ({ tau: p.tau ?? chosenTau, deltaT: p.deltaT ?? chosenDeltaT, k: p.k! }));
  const pairsOf = (points: TuningCurveReport["points"]) => points.flatMap((p) => (p.pseudo.image_auroc !== null && p.test?.image_auroc != null ? [[p.pseudo.image_auroc, p.test.image_auroc] as const] : []));
  const rho = (pairs: ReturnType<typeof pairsOf>) => spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
  const pairs = pairsOf([...tau.points, ...k.points]);
  const f = record.final;
  const kept = f ? (f.kept === "tuned" ? f.tuned : f.defaults) : undefined;
  const served = f && kept?.k !== undefined ? { ...(kept.tau !== undefined ? { tau: kept.tau } : {}), k: kept.k, kept: f.kept } : undefined;
  return {
    state: "present",
    ...(served ? { served } : {}),
    rankCorrelation: { spearman: rho(pairs), points: pairs.length, tau: rho(pairsOf(tau.points)), k: rho(pairsOf(k.points)) },
    seed: record.seed,
    perClass: record.perClass,
    images: record.images,
    tau,
    k,
    ...(notes.length ? { testNote: notes.join("; ") } : {}),
  };
}
