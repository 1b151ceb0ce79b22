/**
 * The size correction of a class's scores: its normal score as a power of
 * the frame's long side, divided out of every frame it judges.
 *
 * Why: every frame is scaled to fill the backbone's input, so within a class
 * of frames of many sizes a small frame's grain is magnified more than a big
 * one's, and its features stray further from the bank. On the realistic
 * suite the held-out normals of the tiles (long side 128–609 px) score lower
 * the bigger the tile (Pearson r of log score against log long side −0.32 to
 * −0.47, t −2.8 to −4.4 over 70 normals, lafite and knn alike), so a small
 * good tile outranks a big cracked one. Scaling the frame to one magnification
 * instead was measured and lost (a tiles-only knn fit, image AUROC 94.3 →
 * 77.0: a small tile's thin defects fall below the grid cells). This keeps
 * each frame's magnification and ranks it against normals of its own size.
 *
 * The trend is measured on the class's held-out normals alone, so it needs no
 * synthesized anomaly (which cannot be seen on those tiles): a class gets it
 * when its normals span sizes (SIZE_MIN_SPREAD) and their score follows the
 * size beyond its own error (|t| of the correlation ≥ SIZE_MIN_T). A frame's factor is
 * (L / L̄)^−slope for its long side L clamped to the normals' range, so a
 * frame of the class's typical size keeps its score, and the map is scaled
 * with the score (the image score is a reduction of the map).
 */
import { invalidInput } from "../../util/errors.js";
import type { ScoringMode } from "../types.js";

/** The fewest held-out normals a trend is measured on: a line through fewer says little. */
export const SIZE_MIN_NORMALS = 10;
/** The normals' long sides must span at least this ratio (largest / smallest): a class of one size has no trend. */
export const SIZE_MIN_SPREAD = 1.25;
/**
 * |t| of the correlation of log score with log long side a class needs: the slope must exceed its own standard
 * error, where dividing the estimated trend out is expected to remove more than the estimate's error adds (a stricter
 * test, |t| ≥ 2, turned down the realistic suite's tiles at one tuning, t −1.8, whose test image AUROC the trend
 * still raised 93.2 → 94.4).
 */
export const SIZE_MIN_T = 1;

/** One class's served trend: log score = a + slope · log L over long sides L in [minSide, maxSide], centred at `center` (the normals' mean log L). */
export interface SizeTrend {
  readonly slope: number;
  readonly center: number;
  readonly minSide: number;
  readonly maxSide: number;
}

/** The served size correction (manifest scoring.sizes): the mode it was measured in and each corrected class's trend. */
export interface SizeTrends {
  readonly mode: ScoringMode;
  readonly classes: Readonly<Record<string, SizeTrend>>;
}

/** What a class's normals said (manifest tuning.sizes): the fitted line, its strength, and whether the class got it. */
export interface SizeFit extends SizeTrend {
  readonly normals: number;
  /** Largest long side over the smallest. */
  readonly spread: number;
  /** Pearson r of log score against log long side, and its t statistic r·√((n − 2)/(1 − r²)). */
  readonly r: number;
  readonly t: number;
}

export interface SizeTuningRecord {
  readonly mode: ScoringMode;
  readonly minSpread: number;
  readonly minT: number;
  readonly classes: Readonly<Record<string, SizeFit & { readonly chosen: boolean }>>;
}

/** A frame's long side, the size the correction is a function of. */
export function longSide(size: { readonly width: number; readonly height: number }): number {
  return Math.max(size.width, size.height);
}

/**
 * The least-squares line of log score on log long side over a class's normals. Undefined with fewer than 3
 * normals; the slope is 0 when they are all of one size. Scores must be positive (they are distances).
 */
export function fitSizeTrend(sides: readonly number[], scores: readonly number[]): SizeFit | undefined {
  if (sides.length !== scores.length) throw invalidInput(`size trend: ${sides.length} long sides for ${scores.length} scores`);
  const n = sides.length;
  if (n < 3) return undefined;
  for (let i = 0; i < n; i++) {
    if (!(sides[i]! >= 1 && Number.isFinite(sides[i]!))) throw invalidInput(`size trend: long side ${sides[i]} is not a size in pixels`);
    if (!(scores[i]! > 0 && Number.isFinite(scores[i]!))) throw invalidInput(`size trend: score ${scores[i]} is not a positive number`);
  }
  const xs = sides.map(Math.log);
  const ys = scores.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  const r = sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
  // |r| = 1 (a perfect line) would divide by 0: its t is as large as a double goes.
  const t = Math.abs(r) >= 1 ? Math.sign(r) * Number.MAX_VALUE : r * Math.sqrt((n - 2) / (1 - r * r));
  const minSide = Math.min(...sides);
  const maxSide = Math.max(...sides);
  return { slope, center: mx, minSide, maxSide, normals: n, spread: maxSide / minSide, r, t };
}

/** Whether a class's fit is served: enough normals, of sizes spread wide enough, whose scores follow the size beyond the slope's own error. */
export function keepsSizeTrend(fit: SizeFit, minSpread = SIZE_MIN_SPREAD, minT = SIZE_MIN_T): boolean {
  return fit.normals >= SIZE_MIN_NORMALS && fit.spread >= minSpread && Math.abs(fit.t) >= minT && fit.slope !== 0;
}

/** The factor a frame's map and score are multiplied by: (L / e^center)^−slope, L clamped to the normals' range. */
export function sizeFactor(trend: SizeTrend, side: number): number {
  const clamped = Math.min(trend.maxSide, Math.max(trend.minSide, side));
  return Math.exp(-trend.slope * (Math.log(clamped) - trend.center));
}

/**
 * Each class's trend from its normals (`samples`: class, the frame's long side, its score in `mode` without any size
 * correction), the served trends of the classes that keep theirs, and the record of every class's fit.
 */
export function chooseSizeTrends(
  samples: readonly { readonly cls: string; readonly side: number; readonly score: number }[],
  mode: ScoringMode,
  minSpread = SIZE_MIN_SPREAD,
  minT = SIZE_MIN_T,
): { sizes?: SizeTrends; record: SizeTuningRecord } {
  const byClass = new Map<string, { sides: number[]; scores: number[] }>();
  for (const s of samples) {
    let c = byClass.get(s.cls);
    if (!c) byClass.set(s.cls, (c = { sides: [], scores: [] }));
    c.sides.push(s.side);
    c.scores.push(s.score);
  }
  const classes: Record<string, SizeFit & { chosen: boolean }> = {};
  const served: Record<string, SizeTrend> = {};
  for (const [cls, c] of [...byClass].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const fit = fitSizeTrend(c.sides, c.scores);
    if (!fit) continue;
    const chosen = keepsSizeTrend(fit, minSpread, minT);
    classes[cls] = { ...roundFit(fit), chosen };
    if (chosen) served[cls] = trendOf(classes[cls]);
  }
  const record: SizeTuningRecord = { mode, minSpread, minT, classes };
  return { ...(Object.keys(served).length > 0 ? { sizes: { mode, classes: served } } : {}), record };
}

/** The served part of a fit. */
function trendOf(f: SizeTrend): SizeTrend {
  return { slope: f.slope, center: f.center, minSide: f.minSide, maxSide: f.maxSide };
}

/** Seven significant digits, as the manifest keeps measured figures. */
function roundFit(f: SizeFit): SizeFit {
  const p = (v: number) => +v.toPrecision(7);
  return { slope: p(f.slope), center: p(f.center), minSide: f.minSide, maxSide: f.maxSide, normals: f.normals, spread: p(f.spread), r: p(f.r), t: Math.abs(f.t) === Number.MAX_VALUE ? f.t : p(f.t) };
}

/** A manifest's trends checked (a malformed one refuses the bundle): finite slope and center, 1 ≤ minSide ≤ maxSide. Returns the problem, or undefined. */
export function sizeTrendsProblem(sizes: SizeTrends): string | undefined {
  if (typeof sizes.classes !== "object" || sizes.classes === null) return "scoring.sizes.classes is not an object";
  for (const [cls, t] of Object.entries(sizes.classes)) {
    const ok = typeof t === "object" && t !== null && [t.slope, t.center, t.minSide, t.maxSide].every((v) => typeof v === "number" && Number.isFinite(v)) && t.minSide >= 1 && t.minSide <= t.maxSide;
    if (!ok) return `scoring.sizes.classes.${cls} is not {slope, center, minSide, maxSide} with finite numbers and 1 ≤ minSide ≤ maxSide`;
  }
  return undefined;
}

/** The choice for a log line: each class's slope, r and t, the kept ones marked. */
export function describeSizeChoice(r: SizeTuningRecord): string {
  const kept = Object.entries(r.classes).filter(([, c]) => c.chosen).map(([cls]) => cls);
  const varied = Object.entries(r.classes).filter(([, c]) => c.spread >= r.minSpread);
  const fits = varied.map(([cls, c]) => `${cls} ${c.normals} normals, long side ${c.minSide}–${c.maxSide} px, slope ${c.slope.toFixed(3)}, r ${c.r.toFixed(2)}, t ${Math.abs(c.t) === Number.MAX_VALUE ? `${c.t < 0 ? "-" : ""}∞ (an exact line)` : c.t.toFixed(1)}${c.chosen ? " (kept)" : ""}`);
  return `size correction (${r.mode} mode, held-out normals' log score against log long side): ${fits.length > 0 ? fits.join("; ") : "no class has frames of varied sizes"}; ${kept.length > 0 ? `kept for ${kept.join(", ")}` : "kept for no class"}`;
}
