/**
 * The whole fit's ETA, shown on every progress line of every stage
 * ("· fit ETA 8m10s"), not only the current stage's.
 *
 * Each stage's cost is its amount of work times a reference rate measured on
 * the 2-core development machine (REFERENCE_SECONDS). While a stage runs, its
 * own progress ETA replaces the estimate; when it ends, the ratio of its real
 * to its estimated time rescales every later stage (the machine is faster or
 * slower than the reference), so the ETA converges as the fit goes on.
 * Pure arithmetic apart from the clock passed in; the fit wires it to the
 * progress sink.
 */
import { formatSeconds, type ProgressSink, type ProgressState } from "../util/progress.js";

export const FIT_STAGES = ["features", "coreset", "diffusion", "pseudo", "tune", "threshold"] as const;
export type FitStage = (typeof FIT_STAGES)[number];

export interface FitWork {
  readonly images: number;
  /** Greedy k-center: centers × candidates × projection dims distance updates. */
  readonly coresetOps: number;
  /** U-Net training: samples × forward multiply-adds per sample, in G. */
  readonly diffusionGmac: number;
  /** Pseudo-validation images (held-out normals + synthesized anomalies). */
  readonly pseudoImages: number;
  /** Scorings of the tuning sweep (0 without tuning), and of threshold calibration. */
  readonly tuneScorings: number;
  readonly thresholdScorings: number;
  /** Multiply-adds of one scoring (coreset search + U-Net steps), in G. */
  readonly scoringGmac: number;
}

/**
 * Seconds per unit of work on the reference machine (2 cores, Debian 12,
 * default config, realistic suite at full scale, an otherwise idle machine).
 */
export const REFERENCE_SECONDS = {
  image: 0.035,
  // 10,000 centers from 250,000 candidates at 128 dims took about 90 s with 2 workers.
  coresetOp: 2.8e-10,
  /** Per G forward multiply-adds trained (forward + backward + AdamW): 16 samples/s of the cpu preset at 0.68 GMAC. */
  diffusionGmac: 0.0913,
  pseudoImage: 0.06,
  /** Per scoring: a fixed part (map, blur, bookkeeping) and a part per G multiply-adds. */
  scoring: 0.01,
  scoringGmac: 0.025,
} as const;

export function stageEstimates(work: FitWork): Record<FitStage, number> {
  const r = REFERENCE_SECONDS;
  return {
    features: work.images * r.image,
    coreset: work.coresetOps * r.coresetOp,
    diffusion: work.diffusionGmac * r.diffusionGmac,
    pseudo: work.pseudoImages * r.pseudoImage,
    tune: work.tuneScorings * (r.scoring + work.scoringGmac * r.scoringGmac),
    threshold: work.thresholdScorings * (r.scoring + work.scoringGmac * r.scoringGmac),
  };
}

export class FitEta {
  private readonly estimate: Record<FitStage, number>;
  private readonly finished = new Set<FitStage>();
  /** Real ÷ estimated seconds of the finished stages, summed over them (weights long stages more). */
  private real = 0;
  private estimated = 0;

  constructor(work: FitWork) {
    this.estimate = stageEstimates(work);
  }

  /** Called when a stage ends with its real duration. */
  finish(stage: FitStage, seconds: number): void {
    if (this.finished.has(stage)) return;
    this.finished.add(stage);
    if (this.estimate[stage] > 0) {
      this.real += seconds;
      this.estimated += this.estimate[stage];
    }
  }

  /** How much slower (> 1) or faster than the reference this machine has been so far. */
  get speedFactor(): number {
    return this.estimated > 0 ? this.real / this.estimated : 1;
  }

  /** Seconds left in the fit: the running stage's own ETA (if known) plus the rescaled estimates of the stages not yet run. */
  remaining(current: FitStage, currentRemaining?: number): number {
    const order = FIT_STAGES.indexOf(current);
    let rest = 0;
    for (const stage of FIT_STAGES.slice(order + 1)) if (!this.finished.has(stage)) rest += this.estimate[stage] * this.speedFactor;
    const own = currentRemaining !== undefined && Number.isFinite(currentRemaining) ? currentRemaining : this.estimate[current] * this.speedFactor;
    return own + rest;
  }

  /**
   * A progress sink for one stage: each line gets the fit's ETA appended.
   * The stage's ETA from its own rate is trusted once a few units are done.
   */
  sink(stage: FitStage, base: ProgressSink): ProgressSink {
    return (line: string, state?: ProgressState) => {
      const own = state && state.done > 0 ? state.remainingSeconds : undefined;
      base(`${line} · fit ETA ${formatSeconds(this.remaining(stage, own))}`, state);
    };
  }
}
