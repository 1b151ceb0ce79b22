/**
 * A memo of the main bank's work on feature maps that a fit or a re-tune
 * scores many times over: the pseudo-validation set is scored at every τ
 * and K of the sweep, then in every mode for the detail and context banks'
 * weights, the edge correction and the thresholds, some 18 passes. Each
 * pass searched the bank again for the same maps (the same search at every
 * τ), and the detail, edge and threshold passes ran the U-Net again at the
 * point the sweep had already scored.
 *
 * Two levels, both keyed by the feature map itself (the set's maps are the
 * same objects in every pass, and never change after standardization):
 *   searches  the main bank's k nearest rows of each position, searched once
 *             at the largest K any pass asks for; a pass at a smaller K takes
 *             the first K of each position's list (nearest first)
 *   scores    a mode's main position scores at one setting (mode, K, τ, Δt, η):
 *             what FrameScorer computes before the detail and context blends
 * A search that leaves rows out (leaveOut) is never memoized.
 *
 * It also keeps each frame's diffusion corruption noise (by the frame's seed,
 * reconstructor.ts corruptionNoise), which every lafite and no-edit pass
 * draws again otherwise: 94,080 Box–Muller normals a map at the default
 * grid, 12 % of a `lafite tune` profile. Up to NOISE_BYTES of it.
 */
import type * as ort from "onnxruntime-node";
import { OnnxKnn, type KnnResult } from "../model/memory/onnx-knn.js";
import { toRows } from "../model/feature-stats.js";
import type { FeatureMap, ScoringMode } from "../model/types.js";
import { corruptionNoise } from "../model/diffusion/reconstructor.js";
import type { ScorerParts } from "./open-scorer.js";

/** The main bank's position scores before any blend, and each position's nearest row (FrameScorer's main pass). */
export interface MainScores {
  readonly values: Float32Array;
  readonly nearest?: Int32Array;
}

/** What makes two main passes the same: everything but the detail and context banks, which blend in after. */
export interface MainSetting {
  readonly mode: ScoringMode;
  readonly k: number;
  readonly tau: number;
  readonly deltaT: number;
  readonly eta: number;
}

export class ScoreMemo {
  private readonly searches = new WeakMap<FeatureMap, KnnResult>();
  private readonly scores = new WeakMap<FeatureMap, Map<string, MainScores>>();
  private readonly noises = new Map<number, Float32Array>();
  private noiseBytes = 0;
  private searchHits = 0;
  private scoreHits = 0;
  private noiseHits = 0;

  private constructor(
    private readonly knn: OnnxKnn,
    /** The bank whose rows the memo's searches index: a scorer over any other bank must not use it. */
    readonly coreset: Float32Array,
    private readonly noiseCap: number,
  ) {}

  /** A memo over the bank `coreset` (n × c) whose searches return `kMax` neighbours: the largest K the passes will ask for; it keeps up to `noiseBytes` of corruption noise. */
  static async open(coreset: Float32Array, n: number, c: number, kMax: number, sessionOptions: ort.InferenceSession.SessionOptions, noiseBytes = NOISE_BYTES): Promise<ScoreMemo> {
    return new ScoreMemo(await OnnxKnn.create(coreset, n, c, Math.min(kMax, n), sessionOptions), coreset, noiseBytes);
  }

  get kMax(): number {
    return this.knn.k;
  }

  /** Lookups answered from the memo so far (searches, main passes, corruption noises): what it saved. */
  get hits(): { readonly searches: number; readonly scores: number; readonly noises: number } {
    return { searches: this.searchHits, scores: this.scoreHits, noises: this.noiseHits };
  }

  /** corruptionNoise(seed, size), kept for the next pass while the memo holds less than its cap (NOISE_BYTES) of it. */
  noise(seed: number, size: number): Float32Array {
    const hit = this.noises.get(seed);
    if (hit && hit.length === size) {
      this.noiseHits++;
      return hit;
    }
    const fresh = corruptionNoise(seed, size);
    if (!hit && this.noiseBytes + fresh.byteLength <= this.noiseCap) {
      this.noises.set(seed, fresh);
      this.noiseBytes += fresh.byteLength;
    }
    return fresh;
  }

  /** The k nearest rows of each of x's positions, nearest first (k ≤ kMax), as OnnxKnn.search returns them. */
  async search(x: FeatureMap, k: number): Promise<KnnResult> {
    if (!Number.isInteger(k) || k < 1 || k > this.knn.k) throw new RangeError(`k=${k} is outside the memo's 1..${this.knn.k}`);
    let all = this.searches.get(x);
    if (all) this.searchHits++;
    else this.searches.set(x, (all = await this.knn.search(toRows(x), x.h * x.w)));
    return firstK(all, this.knn.k, k);
  }

  main(x: FeatureMap, s: MainSetting): MainScores | undefined {
    const hit = this.scores.get(x)?.get(keyOf(s));
    if (hit) this.scoreHits++;
    return hit;
  }

  remember(x: FeatureMap, s: MainSetting, scores: MainScores): void {
    let bySetting = this.scores.get(x);
    if (!bySetting) this.scores.set(x, (bySetting = new Map()));
    bySetting.set(keyOf(s), scores);
  }

  async release(): Promise<void> {
    await this.knn.release();
  }
}

/** Corruption noise a memo keeps: a fit's pseudo-validation set and held-out normals (about 600 maps of 376 KB on the realistic suite) fit. */
export const NOISE_BYTES = 256 * 1024 * 1024;

/** The first k of every run of kAll (indices and distances), as a search at k would return them. */
export function firstK(r: KnnResult, kAll: number, k: number): KnnResult {
  if (k === kAll) return r;
  const n = r.indices.length / kAll;
  const indices = new Int32Array(n * k);
  const distances = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    indices.set(r.indices.subarray(i * kAll, i * kAll + k), i * k);
    distances.set(r.distances.subarray(i * kAll, i * kAll + k), i * k);
  }
  return { indices, distances };
}

function keyOf(s: MainSetting): string {
  // knn and edit-only do not reconstruct: τ, Δt and η do not change them.
  return s.mode === "knn" || s.mode === "edit-only" ? `${s.mode} ${s.k}` : `${s.mode} ${s.k} ${s.tau} ${s.deltaT} ${s.eta}`;
}

/** Runs `body` with `parts` and a memo over their bank (searches of up to `kMax` neighbours), releasing the memo after. */
export async function withScoreMemo<T>(parts: ScorerParts, kMax: number, sessionOptions: ort.InferenceSession.SessionOptions, body: (memoized: ScorerParts) => Promise<T>): Promise<T> {
  const memo = await ScoreMemo.open(parts.coreset, parts.coresetSize, parts.c, kMax, sessionOptions);
  try {
    return await body({ ...parts, memo });
  } finally {
    await memo.release();
  }
}
