/**
 * Pseudo-validation tuning (paper 3.4 and 4.5): sweep τ, then K with editing
 * on (lafite mode) at the chosen τ, each point scored on the synthesized set.
 * The paper sweeps τ with editing off (`tauMode: no-edit`). By default τ is
 * swept in the mode that is served (`tauMode: lafite`, at the configured K):
 * on the realistic suite the no-edit proxy chose τ = 100–200, where lafite
 * itself scores worst on both the pseudo-validation and the test set.
 * Bundles without a diffusion model sweep K in edit-only mode.
 *
 * A last check guards the result: the tuned setting must be at least as good
 * on the pseudo-validation set, in the mode the bundle serves, as the
 * configured defaults; otherwise the defaults stay. τ may be chosen by a
 * proxy (no-edit) that can disagree with the served mode, or at a K other
 * than the chosen one, and this keeps either from making the served model
 * worse.
 */
import type * as ort from "onnxruntime-node";
import type { TuningPoint, TuningRecord } from "../../model/bundle.js";
import type { ScoringMode } from "../../model/types.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../open-scorer.js";
import { Progress, type ProgressSink } from "../../util/progress.js";
import type { PseudoFeature } from "./pseudo-features.js";
import { scorePseudoSet } from "./score-set.js";
import { bestPointIndex, compareTuningPoints } from "./best-point.js";
import type { ImageScoreRule } from "../../model/scoring/anomaly-map.js";
import type { TauSweepMode } from "../../model/model-config.js";

export interface TuningGrid {
  readonly taus: readonly number[];
  /** DDIM steps per τ: Δt = max(1, round(τ / steps)). */
  readonly steps: number;
  readonly ks: readonly number[];
  /** Image-score rules tried at every K point (from the same maps, so nearly free); absent = only the configured one. */
  readonly imageScores?: readonly ImageScoreRule[];
  /** The mode the τ sweep scores in: lafite (the served mode, at the configured K) or no-edit (editing off, the paper's proxy). */
  readonly tauMode: TauSweepMode;
}

export interface TuneInput {
  readonly set: readonly PseudoFeature[];
  readonly parts: ScorerParts;
  /** The configured settings: the starting point and the fallback. */
  readonly base: ScorerSettings;
  /** The grid and the set's recipe (ModelConfig["tuning"]). */
  readonly tuning: TuningGrid & { readonly seed: number; readonly perClass: number; readonly seamless?: number; readonly logical?: number; readonly shade?: number; readonly warp?: number };
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly progressSink?: ProgressSink;
  readonly log?: (msg: string) => void;
}

export interface TuneResult {
  readonly record: TuningRecord;
  /** The settings to serve with. */
  readonly chosen: { readonly tau: number; readonly deltaT: number; readonly k: number; readonly imageScore: ImageScoreRule };
  /** The set's image scores at the chosen settings in the final comparison's mode: threshold calibration need not score it again. */
  readonly chosenScores: { readonly mode: ScoringMode; readonly scores: readonly number[] };
}

export function deltaTFor(tau: number, steps: number): number {
  return Math.max(1, Math.round(tau / steps));
}

export async function runTuning(input: TuneInput): Promise<TuneResult> {
  const started = performance.now();
  const { set, parts, base, tuning: grid } = input;
  const log = input.log ?? (() => {});
  const hasDiffusion = parts.unetOnnx !== undefined;
  const taus = hasDiffusion ? [...new Set(grid.taus)] : [];
  const ks = [...new Set(grid.ks.map((k) => Math.min(k, parts.coresetSize)))];
  const progress = new Progress("tune", (taus.length + ks.length + 1) * set.length, { unit: "scorings", ...(input.progressSink ? { sink: input.progressSink } : {}) });

  const scoresOf = new Map<TuningPoint, readonly number[]>();
  // The sweeps meet: a lafite τ sweep scores the K sweep's point at the configured K, and the
  // final check's defaults are often a point of either curve. Scoring is deterministic, so a
  // setting already scored is looked up, not scored again.
  const scored = new Map<string, TuningPoint>();
  const keyOf = (mode: ScoringMode, s: ScorerSettings) => `${mode} τ=${s.tau} Δt=${s.deltaT} K=${s.k} ${s.imageScore ?? "pool"}`;
  /** One pass over the set: the point of the settings' own image-score rule, then one per alternative rule (same maps). */
  const scoreWith = async (mode: ScoringMode, s: ScorerSettings, alternatives: readonly ImageScoreRule[] = []): Promise<TuningPoint[]> => {
    const wanted = [s, ...alternatives.map((imageScore) => ({ ...s, imageScore }))];
    const known = wanted.map((w) => scored.get(keyOf(mode, w)));
    if (known.every((p) => p !== undefined)) {
      progress.tick(set.length); // the pass the progress total counted for these settings
      return known;
    }
    const opened = await openScorer(mode, parts, s, input.sessionOptions);
    try {
      const r = await scorePseudoSet(set, opened.scorer, { pixels: true, alternatives: wanted.slice(1), ...(input.signal ? { signal: input.signal } : {}), progress });
      const points = [{ image_auroc: r.imageAuroc, pixel_auroc: r.pixelAuroc }, ...r.alternatives.map((a) => ({ image_auroc: a.imageAuroc, pixel_auroc: r.pixelAuroc }))];
      points.forEach((p, i) => {
        scoresOf.set(p, i === 0 ? r.scores : r.alternatives[i - 1]!.scores);
        scored.set(keyOf(mode, wanted[i]!), p);
      });
      return points;
    } finally {
      await opened.release();
    }
  };
  const score = async (mode: ScoringMode, s: ScorerSettings): Promise<TuningPoint> => (await scoreWith(mode, s))[0]!;
  const baseRule: ImageScoreRule = base.imageScore ?? "pool";
  const otherRules = [...new Set(grid.imageScores ?? [])].filter((r) => r !== baseRule);
  const pct = (v: number | null) => (v === null ? "–" : (100 * v).toFixed(1));

  // 1. τ, with editing off (the paper's proxy) or in the served mode at the configured K.
  const baseK = Math.min(base.k, parts.coresetSize);
  const tauCurve: TuningPoint[] = [];
  for (const tau of taus) {
    const deltaT = deltaTFor(tau, grid.steps);
    // In lafite mode the other image-score rules come from the same maps, so the K sweep's pass at this τ and K is already done.
    const [p] = (await scoreWith(grid.tauMode, { ...base, tau, deltaT, k: baseK, imageScore: baseRule }, grid.tauMode === "lafite" ? otherRules : [])) as [TuningPoint];
    tauCurve.push({ tau, deltaT, ...(grid.tauMode === "lafite" ? { k: baseK } : {}), ...p });
    log(`tune: ${grid.tauMode} τ=${tau} Δt=${deltaT}${grid.tauMode === "lafite" ? ` K=${baseK}` : ""}: image AUROC ${pct(p.image_auroc)}, pixel ${pct(p.pixel_auroc)}`);
  }
  const tauPick = tauCurve.length ? tauCurve[bestPointIndex(tauCurve)]! : { tau: base.tau, deltaT: base.deltaT };
  const chosenTau = { tau: tauPick.tau!, deltaT: tauPick.deltaT! };

  // 2. K with editing on, at the chosen τ.
  const kMode: ScoringMode = hasDiffusion ? "lafite" : "edit-only";
  const kCurve: TuningPoint[] = [];
  const kScores: (readonly number[])[] = [];
  for (const k of ks) {
    const points = await scoreWith(kMode, { ...base, ...chosenTau, k, imageScore: baseRule }, otherRules);
    [baseRule, ...otherRules].forEach((imageScore, i) => {
      const p = points[i]!;
      kCurve.push({ k, ...(hasDiffusion ? chosenTau : {}), ...(grid.imageScores ? { imageScore } : {}), image_auroc: p.image_auroc, pixel_auroc: p.pixel_auroc });
      kScores.push(scoresOf.get(p)!);
      log(`tune: ${kMode} K=${k}${hasDiffusion ? ` τ=${chosenTau.tau}` : ""}${grid.imageScores ? ` image score ${imageScore}` : ""}: image AUROC ${pct(p.image_auroc)}, pixel ${pct(p.pixel_auroc)}`);
    });
  }
  const kBestIndex = bestPointIndex(kCurve);
  const kBest = kCurve[kBestIndex]!;
  const tuned = { ...chosenTau, k: kBest.k!, imageScore: kBest.imageScore ?? baseRule };

  // 3. The tuned setting against the configured defaults, in the K sweep's mode.
  const defaults = { tau: base.tau, deltaT: base.deltaT, k: baseK, imageScore: baseRule };
  const same = (!hasDiffusion || (defaults.tau === tuned.tau && defaults.deltaT === tuned.deltaT)) && defaults.k === tuned.k && defaults.imageScore === tuned.imageScore;
  const defaultsPoint = same ? undefined : await score(kMode, { ...base, ...defaults });
  const atDefaults: TuningPoint = defaultsPoint ? { ...defaults, ...defaultsPoint } : kBest;
  const keepDefaults = !same && compareTuningPoints(atDefaults, kBest) > 0;
  const chosen = keepDefaults ? defaults : tuned;
  if (keepDefaults) log(`tune: the configured τ=${defaults.tau} K=${defaults.k} beat the tuned τ=${tuned.tau} K=${tuned.k} on the pseudo-validation set; keeping them`);
  log(`tune: chose τ=${chosen.tau} Δt=${chosen.deltaT} K=${chosen.k} image score ${chosen.imageScore}`);

  const anomalous = set.filter((f) => f.anomalous).length;
  return {
    chosen,
    chosenScores: { mode: kMode, scores: keepDefaults ? scoresOf.get(defaultsPoint!)! : kScores[kBestIndex]! },
    record: {
      seed: grid.seed,
      perClass: grid.perClass,
      ...(grid.seamless ? { seamless: grid.seamless } : {}),
      ...(grid.logical ? { logical: grid.logical } : {}),
      ...(grid.shade ? { shade: grid.shade } : {}),
      ...(grid.warp ? { warp: grid.warp } : {}),
      images: { anomalous, good: set.length - anomalous },
      steps: grid.steps,
      tau: { mode: grid.tauMode, curve: tauCurve, chosen: chosenTau },
      k: { mode: kMode, curve: kCurve, chosen: tuned.k },
      final: { mode: kMode, tuned: { ...tuned, image_auroc: kBest.image_auroc, pixel_auroc: kBest.pixel_auroc }, defaults: atDefaults, kept: keepDefaults ? "defaults" : "tuned" },
      seconds: (performance.now() - started) / 1000,
    },
  };
}
