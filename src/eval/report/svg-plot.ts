/**
 * Small inline-SVG charts for the report: line plots (ROC, PR, PRO, tuning
 * curves) and a two-colour histogram (score distributions). Pure functions
 * from numbers to markup; every string placed in the markup is escaped.
 */
import { escapeHtml } from "./escape.js";
import type { Point } from "./curves.js";

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
  readonly color: string;
  readonly dashed?: boolean;
  /** Draw a dot on every point (short curves such as a tuning sweep). */
  readonly dots?: boolean;
}

export interface Marker {
  readonly x: number;
  readonly label: string;
  readonly color?: string;
}

export interface LinePlot {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly xDomain?: readonly [number, number];
  readonly yDomain?: readonly [number, number];
  readonly markers?: readonly Marker[];
  /** Draw the y = x diagonal (chance level of a ROC curve). */
  readonly diagonal?: boolean;
  /** Legend right of the plot area instead of inside its bottom-right corner (curves that fill the whole area). */
  readonly legendOutside?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** Plot-area margins: left for y tick labels, bottom for x ticks and label. */
const M = { left: 42, right: 10, top: 22, bottom: 34 };

/** Maps data coordinates to SVG pixels (y grows downward in SVG). */
export function makeScale(domain: readonly [number, number], range: readonly [number, number]): (v: number) => number {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function fmt(v: number): string {
  return Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 0.01) ? v.toExponential(1) : String(+v.toPrecision(3));
}

const num = (v: number) => (Math.round(v * 10) / 10).toString();

function frame(title: string, width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title><text x="${width / 2}" y="14" text-anchor="middle" class="t">${escapeHtml(title)}</text>${body}</svg>`;
}

function axes(x: (v: number) => number, y: (v: number) => number, xd: readonly [number, number], yd: readonly [number, number], xLabel: string, yLabel: string, x1: number, height: number, yIntegers = false): string {
  const parts: string[] = [];
  const x0 = M.left, y0 = height - M.bottom, y1 = M.top;
  for (const t of niceTicks(xd[0], xd[1])) {
    parts.push(`<line x1="${num(x(t))}" y1="${y0}" x2="${num(x(t))}" y2="${y1}" class="g"/><text x="${num(x(t))}" y="${y0 + 12}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(yd[0], yd[1]).filter((v) => !yIntegers || Number.isInteger(v))) {
    parts.push(`<line x1="${x0}" y1="${num(y(t))}" x2="${x1}" y2="${num(y(t))}" class="g"/><text x="${x0 - 4}" y="${num(y(t) + 3)}" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" class="a"/>`);
  parts.push(`<text x="${(x0 + x1) / 2}" y="${height - 4}" text-anchor="middle">${escapeHtml(xLabel)}</text>`);
  parts.push(`<text transform="translate(10 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`);
  return parts.join("");
}

function legend(items: readonly { name: string; color: string; dashed?: boolean }[], x: number, y: number): string {
  return items
    .map((s, i) => {
      const yy = y + 12 * i;
      return `<line x1="${x}" y1="${yy}" x2="${x + 14}" y2="${yy}" stroke="${escapeHtml(s.color)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/><text x="${x + 18}" y="${yy + 3}">${escapeHtml(s.name)}</text>`;
    })
    .join("");
}

/** Legend entries are a 14 px line, a gap and the name at about 5.5 px per 10 px-font character. */
function legendWidth(items: readonly { name: string }[]): number {
  return 18 + 5.5 * Math.max(0, ...items.map((s) => s.name.length));
}

/** SVG polyline `points` attribute for data points under the given scales. */
export function polylinePoints(points: readonly Point[], x: (v: number) => number, y: (v: number) => number): string {
  return points.map((p) => `${num(x(p.x))},${num(y(p.y))}`).join(" ");
}

export function linePlot(plot: LinePlot): string {
  const width = plot.width ?? 290;
  const height = plot.height ?? 240;
  const allPoints = plot.series.flatMap((s) => s.points);
  const xd = plot.xDomain ?? extent(allPoints.map((p) => p.x).concat((plot.markers ?? []).map((m) => m.x)));
  const yd = plot.yDomain ?? extent(allPoints.map((p) => p.y));
  const right = width - M.right - (plot.legendOutside ? legendWidth(plot.series) + 8 : 0);
  const x = makeScale(xd, [M.left, right]);
  const y = makeScale(yd, [height - M.bottom, M.top]);
  const parts = [axes(x, y, xd, yd, plot.xLabel, plot.yLabel, right, height)];
  if (plot.diagonal) parts.push(`<line x1="${num(x(xd[0]))}" y1="${num(y(yd[0]))}" x2="${num(x(xd[1]))}" y2="${num(y(yd[1]))}" class="d"/>`);
  for (const m of plot.markers ?? []) {
    const mx = num(x(m.x));
    const color = escapeHtml(m.color ?? "#555");
    // A marker in the right half of the plot labels to its left, so the label stays inside the axes (and off an outside legend).
    const leftward = x(m.x) > (M.left + right) / 2;
    parts.push(`<line x1="${mx}" y1="${M.top}" x2="${mx}" y2="${height - M.bottom}" stroke="${color}" stroke-dasharray="3 3"/><text x="${mx}" y="${M.top + 9}" dx="${leftward ? -3 : 3}"${leftward ? ' text-anchor="end"' : ""} fill="${color}">${escapeHtml(m.label)}</text>`);
  }
  for (const s of plot.series) {
    if (s.points.length === 0) continue;
    const color = escapeHtml(s.color);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ""} points="${polylinePoints(s.points, x, y)}"/>`);
    if (s.dots) for (const p of s.points) parts.push(`<circle cx="${num(x(p.x))}" cy="${num(y(p.y))}" r="2.5" fill="${color}"/>`);
  }
  if (plot.legendOutside) parts.push(legend(plot.series, right + 8, M.top + 8));
  // Bottom right: ROC and PRO curves rise on the left, so that corner is usually empty.
  else parts.push(legend(plot.series, right - 6 - legendWidth(plot.series), height - M.bottom - 8 - 12 * (plot.series.length - 1)));
  return frame(plot.title, width, height, parts.join(""));
}

function extent(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite), hi = Math.max(...finite);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  return [lo, hi];
}

/** Counts of `values` in `bins` equal-width bins over [lo, hi]; values at hi fall in the last bin, values outside are dropped. */
export function histogramCounts(values: readonly number[], lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (const v of values) {
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, width > 0 ? Math.floor((v - lo) / width) : 0)]!++;
  }
  return counts;
}

export interface ScoreHistogram {
  readonly title: string;
  readonly groups: readonly { readonly name: string; readonly values: readonly number[]; readonly color: string }[];
  readonly threshold: number;
  readonly bins?: number;
  readonly width?: number;
  readonly height?: number;
}

/** Overlaid, semi-transparent histograms of image scores on one axis, with the decision threshold marked. */
export function scoreHistogram(h: ScoreHistogram): string {
  const width = h.width ?? 290;
  const height = h.height ?? 240;
  const bins = h.bins ?? 24;
  const all = h.groups.flatMap((g) => g.values).concat(Number.isFinite(h.threshold) ? [h.threshold] : []);
  const [lo, hi] = extent(all);
  const pad = (hi - lo) * 0.02;
  const xd: [number, number] = [lo - pad, hi + pad];
  const counts = h.groups.map((g) => histogramCounts(g.values, xd[0], xd[1], bins));
  const top = Math.max(1, ...counts.flat());
  const yd: [number, number] = [0, top];
  const x = makeScale(xd, [M.left, width - M.right]);
  const y = makeScale(yd, [height - M.bottom, M.top]);
  const parts = [axes(x, y, xd, yd, "image score", "images", width - M.right, height, true)];
  const bw = (xd[1] - xd[0]) / bins;
  counts.forEach((c, gi) => {
    const color = escapeHtml(h.groups[gi]!.color);
    c.forEach((n, i) => {
      if (n === 0) return;
      const bx = x(xd[0] + i * bw);
      parts.push(`<rect x="${num(bx)}" y="${num(y(n))}" width="${num(x(xd[0] + (i + 1) * bw) - bx)}" height="${num(y(0) - y(n))}" fill="${color}" fill-opacity="0.55"/>`);
    });
  });
  if (Number.isFinite(h.threshold)) {
    const tx = num(x(h.threshold));
    parts.push(`<line x1="${tx}" y1="${M.top}" x2="${tx}" y2="${height - M.bottom}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 2"/><text x="${tx}" y="${M.top + 9}" dx="3">threshold ${escapeHtml(fmt(h.threshold))}</text>`);
  }
  const entries = h.groups.map((g) => ({ name: `${g.name} (${g.values.length})`, color: g.color }));
  parts.push(legend(entries, width - M.right - 6 - legendWidth(entries), M.top + 24));
  return frame(h.title, width, height, parts.join(""));
}
