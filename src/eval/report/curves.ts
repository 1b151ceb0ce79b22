/**
 * Curve points for the report's plots, from the same tie groups the metrics
 * use (exact groups for image scores, histogram bins for pixels), so a plotted
 * curve and its reported area agree. Pure functions.
 */
import type { TieGroups } from "../../measures/metrics.js";

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** ROC: (FPR, TPR) from (0, 0), one point per non-empty group from the highest score down, to (1, 1). */
export function rocPoints(g: TieGroups): Point[] {
  const { P, N } = totals(g);
  const out: Point[] = [{ x: 0, y: 0 }];
  let tp = 0, fp = 0;
  for (let i = g.length - 1; i >= 0; i--) {
    const p = g.pos[i]!, n = g.neg[i]!;
    if (p === 0 && n === 0) continue;
    tp += p;
    fp += n;
    out.push({ x: fp / N, y: tp / P });
  }
  return out;
}

/**
 * Precision–recall: (recall, precision) at every threshold from the highest
 * score down, starting at (0, 1) as scikit-learn's precision_recall_curve does.
 */
export function prPoints(g: TieGroups): Point[] {
  const out: Point[] = [{ x: 0, y: 1 }];
  const { P } = totals(g);
  let tp = 0, fp = 0;
  for (let i = g.length - 1; i >= 0; i--) {
    const p = g.pos[i]!, n = g.neg[i]!;
    if (p === 0 && n === 0) continue;
    tp += p;
    fp += n;
    out.push({ x: tp / P, y: tp / (tp + fp) });
  }
  return out;
}

function totals(g: TieGroups): { P: number; N: number } {
  let P = 0, N = 0;
  for (let i = 0; i < g.length; i++) {
    P += g.pos[i]!;
    N += g.neg[i]!;
  }
  return { P: P || 1, N: N || 1 };
}

/**
 * Fewer points for drawing: keeps the first and last point and every point at
 * least `step` away (in x or y) from the last kept one, so a curve of a
 * million histogram bins draws as a few hundred vertices.
 */
export function thinCurve(points: readonly Point[], step: number): Point[] {
  if (points.length <= 2) return [...points];
  const out: Point[] = [points[0]!];
  for (let i = 1; i < points.length - 1; i++) {
    const last = out[out.length - 1]!;
    const p = points[i]!;
    if (Math.abs(p.x - last.x) >= step || Math.abs(p.y - last.y) >= step) out.push(p);
  }
  out.push(points[points.length - 1]!);
  return out;
}

/** The part of a curve (x non-decreasing) with x ≤ limit, ending exactly at x = limit with y interpolated. */
export function cutAt(points: readonly Point[], limit: number): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.x <= limit) {
      out.push(p);
      continue;
    }
    const a = points[i - 1];
    if (a && a.x < limit) out.push({ x: limit, y: a.y + ((p.y - a.y) * (limit - a.x)) / (p.x - a.x) });
    break;
  }
  return out;
}
