/**
 * A frame's class read off its whole look: each class's mean of its bank
 * images' frame means (the mean of every standardized channel over the cells
 * that show the frame), and a frame is read as the class whose mean is
 * nearest, each channel counted in units of its spread over the bank images.
 *
 * The bank rows' votes (row-classes.ts) read a frame by the classes of its
 * cells' nearest rows, one cell at a time. Two textures of one kind share
 * look-alike cells: on the realistic suite 8 of the 70 held-out normals of
 * the tiles of many sizes, and 3 of their 61 test frames, read as the
 * 1024-px paper sheet (its rows held 54–63 % of their cells), so the tiles
 * were judged by the sheet's threshold and could not be profiled. Their
 * frame means read every one of them right, and every frame of every other
 * class but the two classes built alike (the assembly and kit: kit's frames
 * are the assembly's with one part of another material), on the demo, its
 * shifted variant and a second realistic suite (bench/class-reading.ts).
 */
import type { FeatureMap } from "../types.js";
import { frameContext } from "../scoring/context-bank.js";
import { invalidInput } from "../../util/errors.js";

/** Manifest memory.classMeans. */
export interface ClassMeans {
  /** Per channel, the standard deviation of the bank images' frame means at fit: a channel's distance counts in its units (0: the channel is left out). */
  readonly spread: readonly number[];
  /** Per class, how many frames its mean is over (fit's bank images, then the tagged frames refreshes added) and the mean. */
  readonly classes: Readonly<Record<string, ClassMean>>;
  /** Per class, the classes it looks alike with (alikeClasses: the means confuse their held-out normals); absent: none. */
  readonly alike?: Readonly<Record<string, readonly string[]>>;
}

export interface ClassMean {
  readonly count: number;
  readonly mean: readonly number[];
  /**
   * How far from the mean the class's normals lie (lookDistance): the farthest of fit's bank images (each left out of
   * the mean) and held-out normals, widened by refreshes' frames; absent for bundles fitted before it, or with fewer
   * than MIN_REACH_FRAMES normals measured. A frame that lies much farther from the mean of the class it reads as
   * than that is like none of the model's classes (lookRatio).
   */
  readonly reach?: number;
  /**
   * The range of each colour channel's mean level (frameLight: r, g, b in [0, 255]) over the same normals as the
   * reach, widened by refreshes' frames; absent for bundles fitted before it. A frame whose light lies far outside it
   * (a failed lamp, a wrong exposure) is like none of the model's classes whatever its features say (lightRatio).
   */
  readonly light?: LightRange;
}

/** Per colour channel, the lowest and highest mean level of a class's normals. */
export interface LightRange {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
}

/** A channel whose frame means spread less than this over the bank is left out of the distance (a dead channel would divide by ~0). */
const MIN_SPREAD = 1e-6;

/** Fewer normals than this give no reach: the farthest of a handful says little of the next one. */
export const MIN_REACH_FRAMES = 5;

/**
 * The light ratio's unit never falls below this many levels (about 5 % of the range): normals all shot under one
 * steady lamp span a level or two, and a line's light drifts more than that in a day without harming what the model
 * sees (its features shrug off far more: bench:look).
 */
export const MIN_LIGHT_HALF_WIDTH = 12;

/**
 * How far a frame's light (frameLight) lies outside a class's range: the largest over channels of its distance from
 * the range's middle in half the range's width (at least MIN_LIGHT_HALF_WIDTH), so the class's normals are at most 1.
 */
export function lightRatio(light: readonly number[], range: LightRange): number {
  if (light.length !== range.lo.length) throw invalidInput(`a frame's light of ${light.length} channels, a class's range of ${range.lo.length}`);
  let ratio = 0;
  for (let ch = 0; ch < light.length; ch++) {
    const half = Math.max((range.hi[ch]! - range.lo[ch]!) / 2, MIN_LIGHT_HALF_WIDTH);
    ratio = Math.max(ratio, Math.abs(light[ch]! - (range.lo[ch]! + range.hi[ch]!) / 2) / half);
  }
  return ratio;
}

/** The union of a range and the lights of more frames (all of one length); `range` absent: the lights' own range. */
export function widenedLight(range: LightRange | undefined, lights: readonly (readonly number[])[]): LightRange | undefined {
  if (lights.length === 0) return range;
  const lo = range ? [...range.lo] : [...lights[0]!];
  const hi = range ? [...range.hi] : [...lights[0]!];
  for (const l of lights) {
    if (l.length !== lo.length) throw invalidInput(`a frame's light of ${l.length} channels, ${lo.length} expected`);
    l.forEach((v, ch) => ((lo[ch] = Math.min(lo[ch]!, v)), (hi[ch] = Math.max(hi[ch]!, v))));
  }
  return { lo, hi };
}

/** Per channel, the weight of its squared difference: 1 / spread², 0 for a channel left out. */
function lookWeights(spread: readonly number[]): Float64Array {
  return Float64Array.from(spread, (s) => (s > MIN_SPREAD ? 1 / (s * s) : 0));
}

/** The sum over channels of a frame mean's squared difference from a class mean, each channel in units of its spread (its weight). */
function squaredLookDistance(q: Float32Array, mean: ArrayLike<number>, weight: Float64Array): number {
  let d = 0;
  for (let j = 0; j < q.length; j++) d += weight[j]! * (q[j]! - mean[j]!) ** 2;
  return d;
}

/** The root mean square over channels of a frame mean's difference from a class mean, each channel in units of its spread. */
export function lookDistance(q: Float32Array, mean: ArrayLike<number>, weight: Float64Array): number {
  return Math.sqrt(squaredLookDistance(q, mean, weight) / q.length);
}

/** The classes with a reach or a light range, in the means' order: those whose frames the look gate measures. */
export function reachedClasses(means: ClassMeans): string[] {
  return Object.entries(means.classes).flatMap(([cls, m]) => ((m.reach !== undefined && m.reach > 0) || m.light ? [cls] : []));
}

/**
 * The means with each class's reach taken over `frames` (frame means with their class; `inMean`: the frame is one of
 * those the class mean is over, so its distance is measured from the mean without it, n / (n − 1) times its distance
 * from the mean with it), never below a reach recorded before; and its light range widened by the frames' lights
 * (frameLight; frames without one add none). A class with fewer than MIN_REACH_FRAMES frames measured here keeps what
 * it had, of either.
 */
export function withReach(means: ClassMeans, frames: readonly ReachFrame[]): ClassMeans {
  const weight = lookWeights(means.spread);
  const measured = new Map<string, { frames: number; farthest: number }>();
  const lights = new Map<string, (readonly number[])[]>();
  for (const f of frames) {
    const m = means.classes[f.cls];
    if (!m) continue;
    if (f.light) {
      const list = lights.get(f.cls);
      if (list) list.push(f.light);
      else lights.set(f.cls, [f.light]);
    }
    if (f.inMean && m.count < 2) continue;
    const d = lookDistance(f.mean, m.mean, weight) * (f.inMean ? m.count / (m.count - 1) : 1);
    const seen = measured.get(f.cls) ?? { frames: 0, farthest: 0 };
    measured.set(f.cls, { frames: seen.frames + 1, farthest: Math.max(seen.farthest, d) });
  }
  const classes: Record<string, ClassMean> = {};
  for (const [cls, m] of Object.entries(means.classes)) {
    const seen = measured.get(cls);
    const reach = seen && seen.frames >= MIN_REACH_FRAMES ? Math.max(m.reach ?? 0, seen.farthest) : m.reach;
    const lit = lights.get(cls) ?? [];
    const light = lit.length >= MIN_REACH_FRAMES ? widenedLight(m.light, lit) : m.light;
    classes[cls] = { count: m.count, mean: m.mean, ...(reach !== undefined ? { reach } : {}), ...(light ? { light } : {}) };
  }
  return { ...means, classes };
}

/** The classes whose reach changed between two class means (a refresh's or a re-tune's), before (null: none) and after, rounded to 0.001. */
export function reachChanges(before: ClassMeans, after: ClassMeans): Record<string, { before: number | null; after: number }> {
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const out: Record<string, { before: number | null; after: number }> = {};
  for (const [cls, m] of Object.entries(after.classes)) {
    const was = before.classes[cls]?.reach;
    if (m.reach !== undefined && m.reach !== was) out[cls] = { before: was === undefined ? null : round(was), after: round(m.reach) };
  }
  return out;
}

/**
 * Each class's light range that moved between two class means, before (null: none) and after, its levels rounded to
 * 0.1: what a refresh's summary and a re-tune's log list.
 */
export function lightChanges(before: ClassMeans, after: ClassMeans): Record<string, { before: LightRange | null; after: LightRange }> {
  const round = (r: LightRange): LightRange => ({ lo: r.lo.map((v) => Math.round(v * 10) / 10), hi: r.hi.map((v) => Math.round(v * 10) / 10) });
  const out: Record<string, { before: LightRange | null; after: LightRange }> = {};
  for (const [cls, m] of Object.entries(after.classes)) {
    const was = before.classes[cls]?.light;
    if (m.light && JSON.stringify(m.light) !== JSON.stringify(was)) out[cls] = { before: was ? round(was) : null, after: round(m.light) };
  }
  return out;
}

/** How many times its unit (lightRatio's: half its width, at least MIN_LIGHT_HALF_WIDTH) a light range's channel grew at most. */
export function lightGrowth(before: LightRange, after: LightRange): number {
  const unit = (r: LightRange, ch: number) => Math.max(MIN_LIGHT_HALF_WIDTH, (r.hi[ch]! - r.lo[ch]!) / 2);
  return Math.max(...before.lo.map((_, ch) => unit(after, ch) / unit(before, ch)));
}

/** A light range as logs and benches print it: each channel's low–high in whole levels, r/g/b. */
export function lightRangeText(r: LightRange): string {
  return r.lo.map((lo, ch) => `${lo.toFixed(0)}–${r.hi[ch]!.toFixed(0)}`).join("/");
}

/** A normal frame measured for its class's reach: its frame mean, whether the class mean is over it, and its light when known. */
export interface ReachFrame {
  readonly cls: string;
  readonly mean: Float32Array;
  readonly inMean: boolean;
  readonly light?: readonly number[] | undefined;
}

/** A frame's reading against the mean of its class: the look ratio the gate compares with its margin, and the light's share of it. */
export interface LookReading {
  /** The larger of the frame's look distance in its class's reach and its light ratio (each where the class has one). */
  readonly ratio: number;
  /** How far its light lies outside the class's range (lightRatio); absent without one. */
  readonly light?: number;
}

/**
 * Whether a frame's light is what set its look ratio (the served look ratio is the farther of its look and its light):
 * what `lafite detect` and `lafite accept` name as the reason a frame is unlike. An absent or 0 light ratio (a
 * DetectResponse field left unset) is none.
 */
export function setByLight(lookRatio: number | undefined, lightRatio: number | undefined): boolean {
  return lightRatio !== undefined && lightRatio > 0 && lookRatio !== undefined && lightRatio >= lookRatio;
}

/**
 * The look ratio of the means (undefined when no class has a reach or a light range): how far a frame's look lies from
 * class `cls`'s mean, in units of that class's reach, and how far its light lies outside the class's range, each about
 * 1 or less for its normals; undefined for a class with neither.
 */
export function lookRatioReader(means: ClassMeans): ((x: FeatureMap, cls: string) => LookReading | undefined) | undefined {
  const reached = new Set(reachedClasses(means));
  if (reached.size === 0) return undefined;
  const weight = lookWeights(means.spread);
  return (x, cls) => {
    if (!reached.has(cls)) return undefined;
    if (x.c !== means.spread.length) throw invalidInput(`a frame of ${x.c} channels, class means of ${means.spread.length}`);
    const m = means.classes[cls]!;
    const look = m.reach !== undefined && m.reach > 0 ? lookDistance(frameMean(x), m.mean, weight) / m.reach : 0;
    const light = m.light && x.light ? lightRatio(x.light, m.light) : undefined;
    return { ratio: Math.max(look, light ?? 0), ...(light !== undefined ? { light } : {}) };
  };
}

/** A frame's mean of every channel over the cells that show it (x.frame; the whole grid without it). */
export function frameMean(x: FeatureMap): Float32Array {
  return frameContext(x, [0, x.c]);
}

/** Class means of fit's bank images: `frames` are their frame means (frameMean), `classes` their classes, in the same order. */
export function classMeansOf(frames: readonly Float32Array[], classes: readonly string[]): ClassMeans {
  if (frames.length !== classes.length) throw invalidInput(`${frames.length} frame means for ${classes.length} classes`);
  if (frames.length === 0) throw invalidInput("no frame means to take class means of");
  const c = frames[0]!.length;
  const mean = new Float64Array(c);
  for (const f of frames) {
    if (f.length !== c) throw invalidInput(`frame means of ${f.length} and ${c} channels`);
    for (let j = 0; j < c; j++) mean[j]! += f[j]!;
  }
  for (let j = 0; j < c; j++) mean[j]! /= frames.length;
  const variance = new Float64Array(c);
  for (const f of frames) for (let j = 0; j < c; j++) variance[j]! += (f[j]! - mean[j]!) ** 2;
  const spread = Array.from(variance, (v) => Math.sqrt(v / frames.length));
  return withFrameMeans({ spread, classes: {} }, frames.map((mean, i) => ({ cls: classes[i]!, mean })));
}

/**
 * The means with more frames folded in, each into its class's running mean (a class not yet known gets one of its
 * own); the spread stays fit's, so distances keep their units.
 */
export function withFrameMeans(means: ClassMeans, frames: readonly { readonly cls: string; readonly mean: Float32Array }[]): ClassMeans {
  const c = means.spread.length;
  const sums = new Map<string, { count: number; sum: Float64Array }>();
  for (const [cls, m] of Object.entries(means.classes)) sums.set(cls, { count: m.count, sum: Float64Array.from(m.mean, (v) => v * m.count) });
  for (const { cls, mean } of frames) {
    if (mean.length !== c) throw invalidInput(`a frame mean of ${mean.length} channels, class means of ${c}`);
    const s = sums.get(cls) ?? { count: 0, sum: new Float64Array(c) };
    s.count++;
    for (let j = 0; j < c; j++) s.sum[j]! += mean[j]!;
    sums.set(cls, s);
  }
  const classes: Record<string, ClassMean> = {};
  for (const [cls, s] of sums) {
    const { reach, light } = means.classes[cls] ?? {};
    classes[cls] = { count: s.count, mean: Array.from(s.sum, (v) => v / s.count), ...(reach !== undefined ? { reach } : {}), ...(light ? { light } : {}) };
  }
  return { spread: [...means.spread], classes, ...(means.alike ? { alike: means.alike } : {}) };
}

/**
 * The class reader of a bank whose classes are `names` (row-classes.ts): the index of the class whose mean is
 * nearest a frame's mean, or undefined when the means do not cover every name in `voting` (a class the bank holds
 * rows of but the means do not know could never be read: then the rows' votes read the frame, as before the means).
 */
export function classMeanReader(means: ClassMeans, names: readonly string[], voting: readonly string[]): ((x: FeatureMap) => number) | undefined {
  if (!voting.every((name) => means.classes[name] !== undefined)) return undefined;
  const c = means.spread.length;
  const weight = lookWeights(means.spread);
  const table = Object.entries(means.classes)
    .map(([cls, m]) => ({ index: names.indexOf(cls), mean: Float64Array.from(m.mean) }))
    .filter((t) => t.index >= 0)
    .sort((a, b) => a.index - b.index);
  return (x) => {
    if (x.c !== c) throw invalidInput(`a frame of ${x.c} channels, class means of ${c}`);
    return nearestMean(frameMean(x), table, weight);
  };
}

/** The index of the nearest of `table`'s means in the weighted squared distance (ties to the lower index); -1 for an empty table. */
export function nearestMean(q: Float32Array, table: readonly { readonly index: number; readonly mean: Float64Array }[], weight: Float64Array): number {
  let best = -1;
  let bestDistance = Infinity;
  for (const t of table) {
    const d = squaredLookDistance(q, t.mean, weight);
    if (d < bestDistance) (best = t.index), (bestDistance = d);
  }
  return best;
}

/**
 * Frames of known classes the means read as another class: per true class, per class read, how many. Two classes
 * whose own normals read as each other look alike to the model (the realistic suite's kit, whose frames are the
 * assembly's with one part of another material); a frame tagged with one of them that reads as the other is then
 * no sign of a wrong part.
 */
export function misreadings(means: ClassMeans, frames: readonly FeatureMap[], classes: readonly string[]): Record<string, Record<string, number>> {
  if (frames.length !== classes.length) throw invalidInput(`${frames.length} frames for ${classes.length} classes`);
  const names = Object.keys(means.classes);
  const read = classMeanReader(means, names, [])!;
  const out: Record<string, Record<string, number>> = {};
  frames.forEach((x, i) => {
    const as = names[read(x)];
    if (as === undefined || as === classes[i]) return;
    const row = (out[classes[i]!] ??= {});
    row[as] = (row[as] ?? 0) + 1;
  });
  return out;
}

/** Two classes look alike when at least this share of one's held-out normals read as the other ... */
export const ALIKE_MIN_SHARE = 0.1;
/** ... and at least this many: one stray normal in a big class says little. */
export const ALIKE_MIN_NORMALS = 2;

/**
 * The pairs of classes the means confuse (misreadings of the held-out normals, `normals` of each class): a pair is
 * alike, both ways, when at least ALIKE_MIN_NORMALS and ALIKE_MIN_SHARE of one class's normals read as the other.
 * A frame tagged with one of them that reads as the other is no sign of a wrong part: the model cannot tell them
 * apart on its own normals (class-tag.ts, model.classTagMismatch: distinct).
 */
export function alikeClasses(misread: Readonly<Record<string, Readonly<Record<string, number>>>>, normals: Readonly<Record<string, number>>): Record<string, string[]> {
  const out = new Map<string, Set<string>>();
  const pair = (a: string, b: string) => out.set(a, (out.get(a) ?? new Set()).add(b));
  for (const [cls, as] of Object.entries(misread)) {
    for (const [other, n] of Object.entries(as)) {
      if (n >= ALIKE_MIN_NORMALS && n >= ALIKE_MIN_SHARE * (normals[cls] ?? 0)) (pair(cls, other), pair(other, cls));
    }
  }
  return Object.fromEntries([...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([cls, set]) => [cls, [...set].sort()]));
}

/**
 * The means with the pairs their held-out normals show alike (alikeClasses) in place of any recorded before; none:
 * no `alike`. `misread`: misreadings(means, normals, classes), which the caller may also report; `classes`: the
 * normals' classes, in which each is counted.
 */
export function withAlike(means: ClassMeans, misread: Readonly<Record<string, Readonly<Record<string, number>>>>, classes: readonly string[]): ClassMeans {
  const normals: Record<string, number> = {};
  for (const cls of classes) normals[cls] = (normals[cls] ?? 0) + 1;
  const alike = alikeClasses(misread, normals);
  const { alike: _before, ...rest } = means;
  return Object.keys(alike).length > 0 ? { ...rest, alike } : rest;
}

/** What is wrong with recorded class means, or undefined: a bundle with malformed ones is refused at load, not read by NaN. */
export function classMeansProblem(means: ClassMeans, c: number): string | undefined {
  if (!Array.isArray(means.spread) || means.spread.length !== c) return `class means: a spread of ${Array.isArray(means.spread) ? means.spread.length : "no"} channels, the features have ${c}`;
  if (!means.spread.every((v) => typeof v === "number" && Number.isFinite(v) && v >= 0)) return "class means: a spread that is not a finite number ≥ 0";
  for (const [cls, others] of Object.entries(means.alike ?? {})) {
    if (!Array.isArray(others) || !others.every((o) => typeof o === "string")) return `class means: the classes alike with '${cls}' are not a list of names`;
  }
  for (const [cls, m] of Object.entries(means.classes ?? {})) {
    if (!Number.isInteger(m.count) || m.count < 1) return `class mean of '${cls}': count ${m.count} is not a positive integer`;
    if (!Array.isArray(m.mean) || m.mean.length !== c) return `class mean of '${cls}': ${Array.isArray(m.mean) ? m.mean.length : "no"} channels, the features have ${c}`;
    if (!m.mean.every((v) => typeof v === "number" && Number.isFinite(v))) return `class mean of '${cls}': a value is not a finite number`;
    if (m.reach !== undefined && !(typeof m.reach === "number" && Number.isFinite(m.reach) && m.reach >= 0)) return `class mean of '${cls}': reach ${m.reach} is not a finite number ≥ 0`;
    if (m.light !== undefined) {
      const level = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 255;
      const { lo, hi } = m.light;
      if (!Array.isArray(lo) || !Array.isArray(hi) || lo.length !== 3 || hi.length !== 3) return `class mean of '${cls}': a light range that is not 3 lows and 3 highs`;
      if (!lo.every(level) || !hi.every(level) || lo.some((v, ch) => v > hi[ch]!)) return `class mean of '${cls}': a light range outside [0, 255] or with a low above its high`;
    }
  }
  return undefined;
}
