/**
 * The whole fit's ETA, shown on every progress line of every stage
 * ("· fit ETA 8m10s"), not only the current stage's.
 *
 * Each stage's cost is its amount of work times a reference rate measured on
 * the 2-core development machine (REFERENCE_SECONDS). While a stage runs, its
 * own progress ETA replaces the estimate, so the ETA converges as the fit goes
 * on. Stages are not rescaled by how fast earlier ones ran: they are bound by
 * different things (image decoding, the k-center loop, the U-Net on CPU or a
 * GPU), and on the demo set a fast feature stage made the rest look 4× too
 * short. Pure arithmetic; the fit wires it to the progress sink.
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
  // Realistic suite at full scale: 1,625 images in 12 s.
  image: 0.008,
  // 10,000 centers from 250,000 candidates at 128 dims: 104 s with pruning (151 s full scan; 2,540 from 127,000 on the demo: 19 s before pruning, which skips less there).
  // Rows chosen per class (memory.perClassShare, counted by classCoresetWork): 97 s measured against 113 s estimated at 0.75, 16 s against 18 s at 1.
  // With the search for the class picks' cover (nearest-picks.ts), realistic suite with kit at 0.75: 47.5 s measured against 41 s estimated.
  // Those were the JavaScript loops (3.3e-10); the WebAssembly kernel (distance-kernel.ts) then took the realistic suite's
  // whole coreset in 19 s and the 1024-px sheet's tiles' in 43 s (74 s in JavaScript), 0.49 and 0.72 of the old estimate.
  coresetOp: 2.0e-10,
  /** Per G forward multiply-adds trained (forward + backward + AdamW): 22 samples/s of the cpu preset at 0.68 GMAC (demo and full-scale fits). */
  diffusionGmac: 0.0664,
  // 282 pseudo-validation images (162 held-out normals, 120 synthesized) in 4.4 s.
  pseudoImage: 0.016,
  /** Per tuning scoring, all in lafite mode (tuning.tauMode): a fixed part (map, blur, bookkeeping) and a part per G multiply-adds (3,384 scorings at 1.6 GMAC, 564 of them looked up, in 151 s). */
  scoring: 0.01,
  scoringGmac: 0.021,
  /** Per threshold scoring: the modes without the U-Net are cheap and the tuned mode's scores are reused (1,128 scorings in 18 s). */
  thresholdScoring: 0.016,
} as const;

export function stageEstimates(work: FitWork): Record<FitStage, number> {
  const r = REFERENCE_SECONDS;
  return {
    features: work.images * r.image,
    coreset: work.coresetOps * r.coresetOp,
    diffusion: work.diffusionGmac * r.diffusionGmac,
    pseudo: work.pseudoImages * r.pseudoImage,
    tune: work.tuneScorings * (r.scoring + work.scoringGmac * r.scoringGmac),
    threshold: work.thresholdScorings * r.thresholdScoring,
  };
}

export class FitEta {
  private readonly estimate: Record<FitStage, number>;

  /** `after`: seconds of work after this fit's last stage (its tiled classes' fits, pipeline/tiling/fit-tiles.ts). */
  constructor(
    work: FitWork,
    private readonly after = 0,
  ) {
    this.estimate = stageEstimates(work);
  }

  /** Seconds left in the fit: the running stage's own ETA (its estimate until it has one) plus the estimates of the stages after it. */
  remaining(current: FitStage, currentRemaining?: number): number {
    const order = FIT_STAGES.indexOf(current);
    let rest = 0;
    for (const stage of FIT_STAGES.slice(order + 1)) rest += this.estimate[stage];
    const own = currentRemaining !== undefined && Number.isFinite(currentRemaining) ? currentRemaining : this.estimate[current];
    return own + rest + this.after;
  }

  /**
   * A progress sink for one stage: each line gets the fit's ETA appended,
   * the stage's own from its rate once settled (settledRemaining).
   */
  sink(stage: FitStage, base: ProgressSink): ProgressSink {
    return (line: string, state?: ProgressState) => base(`${line} · fit ETA ${formatSeconds(this.remaining(stage, settledRemaining(state)))}`, state);
  }
}

/**
 * A running step's own ETA from its rate, once it can be trusted (5 % of it done or 15 s run: the first unit often
 * carries the setup, and the coreset's first center made a 9-minute stage look like 17); else undefined.
 */
export function settledRemaining(state: ProgressState | undefined): number | undefined {
  return state !== undefined && state.done > 0 && (state.done >= 0.05 * state.total || state.elapsedSeconds >= 15) ? state.remainingSeconds : undefined;
}
