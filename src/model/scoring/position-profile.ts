/**
 * A class's normal score at each position of the anomaly map: the mean and
 * spread of its held-out normals' maps, position by position, and the map
 * standardized by them before the image score.
 *
 * Why: a normal frame's map is not flat. An object's contours, a plate's
 * rims, the band along a letterboxed frame's edge score higher, and vary
 * more, than its plain middle, and they do so at the same place of every
 * frame of a class. The image score takes the map's highest region, so
 * those places set a normal frame's score, and a small defect elsewhere has
 * to outscore them.
 *
 * A place is a place of the frame (ProfileCoords "frame"): the frame's
 * placement in the letterboxed input divided into the grid, so frames of
 * several sizes and aspect ratios share places, their edges on the grid's
 * border. Session 29's bundles used places of the input ("input"), which
 * only frames of one size share.
 *
 * Measured on the realistic suite with kit (`npm run bench:profile`, lafite
 * fits at seeds 0 and 1, the six classes with at least 10 held-out normals),
 * image AUROC without → with a profile in frame coordinates (in input
 * coordinates): the nut with small spots 86.3 → 91.0 (91.0) and 85.8 → 93.3
 * (93.3), the dyed cloth 72.8 → 79.5 (78.2) and 71.7 → 72.3 (76.0), the
 * tiles of many sizes 91.1 → 97.1 (93.3) and 94.2 → 93.4 (90.6), the veneer
 * 92.8 → 95.0 (94.3) and 93.2 → 92.8 (92.3), the logical classes at 100
 * either way; so it is a per-class choice. Defects caught at the 0.99
 * quantile of the held-out normals 115 → 125 and 117 → 128, good frames
 * flagged 9 → 2 and 5 → 2.
 *
 * Standardized, a position counts in units of its own normal spread, never
 * less than the class's mean spread over the map: `(x − μ) / max(σ, σ̄)`.
 * The floor keeps positions where the normals happen to agree (a few dozen
 * frames) from turning small deviations into large ones: with it at half
 * the mean spread, fewer good frames were flagged but fewer defects caught.
 *
 * Pure: sums, profiles and the standardized map. Leaving one normal out
 * (to score a held-out normal against the profile of the others, as a
 * threshold calibrated on them must) costs one subtraction per position.
 */
import { invalidInput } from "../../util/errors.js";
import { resizeBilinear } from "./anomaly-map.js";
import { perPlacement, type Placement } from "../../image/geometry.js";
import type { ScoringMode } from "../types.js";

/** The fewest normal maps a profile is built from: with fewer, a position's spread is noise. */
export const MIN_PROFILE_NORMALS = 10;

export interface PositionProfile {
  /** Per map position (S×S, row-major): the normals' mean score. */
  readonly mean: Float32Array;
  /** Per position: what one unit of the standardized map is, max(σ, σ̄), σ the normals' sample standard deviation there and σ̄ its mean over the map. */
  readonly scale: Float32Array;
}

/**
 * The grid a profile is kept on: the map's mean over blocks of a grid×grid
 * division of the S×S map, upsampled bilinearly when a map is standardized.
 * The map is a blurred upsampling of the 28-cell feature grid, so a 28-cell
 * profile loses nothing measurable (realistic suite, two fits: mean image
 * AUROC 93.02 / 91.94 against 92.81 / 92.04 at full resolution), and a
 * class's sums fit in the manifest (2 × 784 numbers).
 */
export const PROFILE_GRID = 28;

/** The served profiles (manifest scoring.profiles): the mode they were measured in, their grid and its coordinates, and per class the sums of its normals' grid maps. */
export interface PositionProfiles {
  readonly mode: ScoringMode;
  readonly grid: number;
  /** Absent: "input" (bundles before frame coordinates). */
  readonly coords?: ProfileCoords;
  readonly classes: Readonly<Record<string, ClassProfileSums>>;
}

/** One class's normals, summed on the profile grid: from these a profile of all of them, or of all but one, is read. */
export interface ClassProfileSums {
  /**
   * Each normal's fingerprint (the hash of its standardized features that also seeds its diffusion noise), so a
   * normal the profile was measured on, scored again for its class's threshold, is scored against the others' profile
   * and not its own.
   */
  readonly members: readonly number[];
  readonly sum: readonly number[];
  readonly squares: readonly number[];
  /**
   * The same normals' heatmaps summed, where a class's heatmap is not the map its image score is taken from (its
   * detail or context bank weighs in with another W for the heatmap). A heatmap standardized by the image-score maps'
   * profile mixes units place by place. Realistic suite, lafite seed 1, pixel AUROC / AUPRO by the score maps' profile
   * → by the heatmaps' own: the tiles of many sizes (heatmap W 0.5, image score W 0) 96.5 / 88.9 → 97.0 / 89.3; with
   * W up to 1, the dyed cloth (W 1 against 0.2) 62.8 / 46.0 → 79.4 / 63.3 and the tiles (0.85 against 0) 92.1 / 73.0
   * → 97.1 / 89.9. Absent (bundles before, or both maps one): the sums above serve both.
   */
  readonly heatmap?: { readonly sum: readonly number[]; readonly squares: readonly number[] };
}

/**
 * Where a profile's positions are: "input", places of the S×S input (every
 * frame a class's profile serves must then be fitted into it the same way,
 * one frame size); "frame", places of the frame itself, its placement in the
 * input divided into the grid, so frames of several sizes and aspect ratios
 * share positions (their edges fall on the grid's border). Bundles of
 * session 29 have no field: "input".
 */
export type ProfileCoords = "input" | "frame";
export const PROFILE_COORDS: readonly ProfileCoords[] = ["input", "frame"];

/** The rectangle of a size×size map a profile's grid divides: the frame's placement in frame coordinates, else the whole map. */
export function profileRect(coords: ProfileCoords, size: number, place: Placement | undefined): Placement {
  return coords === "frame" && place ? place : { x: 0, y: 0, w: size, h: size };
}

/**
 * A map's mean over each block of a grid×grid division of a rectangle of
 * its size×size positions (default: all of them): the profile grid's view
 * of it. A rectangle thinner than the grid gives each block of that axis
 * its nearest row or column.
 */
export function profileGridMap(map: Float32Array, size: number, grid: number, rect: Placement = { x: 0, y: 0, w: size, h: size }): Float32Array {
  if (map.length !== size * size) throw invalidInput(`map has ${map.length} positions, not ${size}×${size}`);
  if (!Number.isInteger(grid) || grid < 1 || grid > size) throw invalidInput(`profile grid ${grid} must be an integer from 1 to the map side ${size}`);
  const { x, y, w, h } = rect;
  if (!(Number.isInteger(x) && Number.isInteger(y) && w >= 1 && h >= 1 && x >= 0 && y >= 0 && x + w <= size && y + h <= size)) throw invalidInput(`rectangle ${w}×${h} at (${x}, ${y}) is not inside the ${size}×${size} map`);
  const xs = blockSpans(w, grid);
  const ys = blockSpans(h, grid);
  const out = new Float32Array(grid * grid);
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      // Row by row, left to right, in double precision: the order (and so the sums) of a whole map's blocks as before rectangles.
      let sum = 0;
      for (let r = ys[2 * gy]!; r < ys[2 * gy + 1]!; r++) for (let c = xs[2 * gx]!; c < xs[2 * gx + 1]!; c++) sum += map[(y + r) * size + x + c]!;
      out[gy * grid + gx] = sum / ((ys[2 * gy + 1]! - ys[2 * gy]!) * (xs[2 * gx + 1]! - xs[2 * gx]!));
    }
  }
  return out;
}

/** Per block of an n-long axis divided into `grid`: [from, to) of the positions whose block it is (i ≤ p·grid/n < i+1), or the nearest one when none is. */
function blockSpans(n: number, grid: number): Int32Array {
  const spans = new Int32Array(2 * grid);
  for (let i = 0; i < grid; i++) {
    let lo = Math.ceil((i * n) / grid);
    let hi = Math.ceil(((i + 1) * n) / grid);
    if (hi <= lo) {
      lo = Math.min(n - 1, Math.floor(((i + 0.5) * n) / grid));
      hi = lo + 1;
    }
    spans[2 * i] = lo;
    spans[2 * i + 1] = hi;
  }
  return spans;
}

/** Running sums of normal maps, from which a profile of all of them, or of all but one, is read. */
export class ProfileSums {
  private readonly sum: Float64Array;
  private readonly squares: Float64Array;
  private n = 0;

  constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 1) throw invalidInput(`profile length ${length} must be a positive integer`);
    this.sum = new Float64Array(length);
    this.squares = new Float64Array(length);
  }

  get count(): number {
    return this.n;
  }

  /** Sums recorded in a bundle (ClassProfileSums), for `count` maps of `length` positions. */
  static of(record: { readonly sum: readonly number[]; readonly squares: readonly number[] }, count: number): ProfileSums {
    if (record.sum.length !== record.squares.length) throw invalidInput(`profile sums have ${record.sum.length} values and their squares ${record.squares.length}`);
    const sums = new ProfileSums(record.sum.length);
    sums.sum.set(record.sum);
    sums.squares.set(record.squares);
    sums.n = count;
    return sums;
  }

  /** The sums as a bundle records them. */
  record(): { sum: number[]; squares: number[] } {
    return { sum: Array.from(this.sum), squares: Array.from(this.squares) };
  }

  add(map: Float32Array): void {
    this.check(map);
    const bad = map.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw invalidInput(`normal map value ${map[bad]} at position ${bad} is not finite`);
    for (let i = 0; i < this.length; i++) {
      const v = map[i]!;
      this.sum[i]! += v;
      this.squares[i]! += v * v;
    }
    this.n++;
  }

  /** The profile of every map added. */
  profile(): PositionProfile {
    return this.profileOf(this.n, (i) => this.sum[i]!, (i) => this.squares[i]!);
  }

  /** The profile of every map added but `map` (which must be one of them). */
  profileWithout(map: Float32Array): PositionProfile {
    this.check(map);
    return this.profileOf(this.n - 1, (i) => this.sum[i]! - map[i]!, (i) => this.squares[i]! - map[i]! * map[i]!);
  }

  private profileOf(n: number, sum: (i: number) => number, squares: (i: number) => number): PositionProfile {
    if (n < 2) throw invalidInput(`a position profile needs at least 2 normal maps (got ${n})`);
    const mean = new Float32Array(this.length);
    const sd = new Float64Array(this.length);
    let meanSd = 0;
    for (let i = 0; i < this.length; i++) {
      const m = sum(i) / n;
      mean[i] = m;
      // Rounding can leave a constant position's variance a hair below zero.
      sd[i] = Math.sqrt(Math.max(0, (squares(i) - n * m * m) / (n - 1)));
      meanSd += sd[i]! / this.length;
    }
    if (!(meanSd > 0)) throw invalidInput(`the normal maps do not vary anywhere, so they give no scale to standardize by`);
    const scale = new Float32Array(this.length);
    for (let i = 0; i < this.length; i++) scale[i] = Math.max(sd[i]!, meanSd);
    return { mean, scale };
  }

  private check(map: Float32Array): void {
    if (map.length !== this.length) throw invalidInput(`normal map has ${map.length} positions, the profile ${this.length}`);
  }
}

/** The profile of a class's normal maps (each S×S, row-major). */
export function positionProfile(maps: readonly Float32Array[]): PositionProfile {
  if (maps.length === 0) throw invalidInput("a position profile needs normal maps");
  const sums = new ProfileSums(maps[0]!.length);
  for (const m of maps) sums.add(m);
  return sums.profile();
}

/** The map in units of its class's normal spread at each position: (x − μ) / scale. */
export function standardizeMap(map: Float32Array, profile: PositionProfile): Float32Array {
  if (map.length !== profile.mean.length) throw invalidInput(`map has ${map.length} positions, the profile ${profile.mean.length}`);
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) out[i] = (map[i]! - profile.mean[i]!) / profile.scale[i]!;
  return out;
}

/**
 * A class's served profile: the profile of all its normals brought to each
 * frame placement's rectangle once, and the sums to leave one of them out.
 * standardize() scores a map against it, a member normal (by its
 * fingerprint) against the others'. In frame coordinates the letterbox
 * border shows no part of the frame, so it counts as the normals' mean, 0.
 */
export class ClassProfile {
  private readonly members: ReadonlySet<number>;
  private readonly score: ProfileOfMaps;
  /** The heatmaps' own profile (ClassProfileSums.heatmap), else the image score maps'. */
  private readonly heatmap: ProfileOfMaps;

  constructor(
    record: ClassProfileSums,
    private readonly grid: number,
    private readonly size: number,
    private readonly coords: ProfileCoords = "input",
  ) {
    this.members = new Set(record.members);
    this.score = profileOfMaps(record, record.members.length, grid);
    this.heatmap = record.heatmap ? profileOfMaps(record.heatmap, record.members.length, grid) : this.score;
  }

  /**
   * `map` (S×S, the image score's) in units of the class's normal spread; `fingerprint`: the frame's, to leave it out
   * when it is one of the normals; `place`: the frame's placement in the input (FeatureMap.place; absent: the whole square).
   */
  standardize(map: Float32Array, fingerprint: number, place?: Placement): Float32Array {
    return this.standardizeBy(this.score, map, fingerprint, place);
  }

  /** `map`, the frame's heatmap, in units of the spread of its class's normals' heatmaps (as standardize()). */
  standardizeHeatmap(map: Float32Array, fingerprint: number, place?: Placement): Float32Array {
    return this.standardizeBy(this.heatmap, map, fingerprint, place);
  }

  private standardizeBy(p: ProfileOfMaps, map: Float32Array, fingerprint: number, place: Placement | undefined): Float32Array {
    const rect = profileRect(this.coords, this.size, place);
    const profile = this.members.has(fingerprint) ? profileOnRect(p.sums.profileWithout(profileGridMap(map, this.size, this.grid, rect)), this.grid, rect) : p.fullOn(rect);
    return standardizeInRect(map, this.size, rect, profile);
  }
}

/** One kind of map's profile: its sums (to leave a member out) and the profile of all, brought to each placement's rectangle. */
interface ProfileOfMaps {
  readonly sums: ProfileSums;
  readonly fullOn: (rect: Placement) => PositionProfile;
}

function profileOfMaps(record: { readonly sum: readonly number[]; readonly squares: readonly number[] }, count: number, grid: number): ProfileOfMaps {
  const sums = ProfileSums.of(record, count);
  if (sums.length !== grid * grid) throw invalidInput(`profile sums have ${sums.length} values, a ${grid}×${grid} grid ${grid * grid}`);
  const full = sums.profile();
  return { sums, fullOn: perPlacement((rect) => profileOnRect(full, grid, rect)) };
}

/** A grid×grid profile brought to a rectangle's w×h positions (bilinear). */
export function profileOnRect(p: PositionProfile, grid: number, rect: Placement): PositionProfile {
  const up = (v: Float32Array) => resizeBilinear(v, grid, grid, rect.w, rect.h);
  return { mean: up(p.mean), scale: up(p.scale) };
}

/**
 * A size×size map standardized inside a rectangle by a profile on that rectangle (profileOnRect); outside it (the
 * letterbox border, which shows no part of the frame) 0, the normals' mean.
 */
export function standardizeInRect(map: Float32Array, size: number, rect: Placement, p: PositionProfile): Float32Array {
  if (rect.w === size && rect.h === size) return standardizeMap(map, p);
  if (map.length !== size * size) throw invalidInput(`map has ${map.length} positions, not ${size}×${size}`);
  if (p.mean.length !== rect.w * rect.h) throw invalidInput(`profile has ${p.mean.length} positions, the rectangle ${rect.w}×${rect.h}`);
  const out = new Float32Array(size * size);
  for (let r = 0; r < rect.h; r++) {
    const row = (rect.y + r) * size + rect.x;
    for (let c = 0; c < rect.w; c++) out[row + c] = (map[row + c]! - p.mean[r * rect.w + c]!) / p.scale[r * rect.w + c]!;
  }
  return out;
}

/** What is wrong with recorded profiles, or undefined: a bundle with malformed ones is refused at load, not scored NaN. */
export function positionProfilesProblem(p: PositionProfiles): string | undefined {
  if (!Number.isInteger(p.grid) || p.grid < 1) return `position profiles: grid ${p.grid} is not a positive integer`;
  if (p.coords !== undefined && !PROFILE_COORDS.includes(p.coords)) return `position profiles: coordinates '${String(p.coords)}' are not one of ${PROFILE_COORDS.join(", ")}`;
  for (const [cls, c] of Object.entries(p.classes)) {
    const where = `position profile of class '${cls}'`;
    if (!Array.isArray(c.members) || c.members.length < MIN_PROFILE_NORMALS) return `${where}: ${Array.isArray(c.members) ? c.members.length : "no"} normals, under ${MIN_PROFILE_NORMALS}`;
    const problem = sumsProblem(c, "sums", p.grid, c.members.length) ?? (c.heatmap !== undefined ? sumsProblem(c.heatmap, "heatmap sums", p.grid, c.members.length) : undefined);
    if (problem) return `${where}: ${problem}`;
    if (!c.members.every((v) => typeof v === "number" && Number.isFinite(v))) return `${where}: a member is not a finite number`;
  }
  return undefined;
}

/** What is wrong with one kind of map's recorded sums (`what`), or undefined. */
function sumsProblem(sums: { readonly sum: readonly number[]; readonly squares: readonly number[] }, what: string, grid: number, count: number): string | undefined {
  if (typeof sums !== "object" || sums === null || !Array.isArray(sums.sum) || !Array.isArray(sums.squares) || sums.sum.length !== grid * grid || sums.squares.length !== grid * grid) return `${what} are not ${grid}×${grid}`;
  if (![...sums.sum, ...sums.squares].every((v) => typeof v === "number" && Number.isFinite(v))) return `a value of its ${what} is not a finite number`;
  try {
    ProfileSums.of(sums, count).profile();
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** A class's pseudo-validation figures for one image score (null: undefined there, e.g. no anomaly of the class). */
export interface ProfileFigures {
  readonly image_auroc: number | null;
  /** How far the anomalies stand from the normals, in the normals' standard deviations (measures/metrics.ts separation). */
  readonly separation: number | null;
}

/** What tuning recorded (manifest tuning.profiles): each class's figures without and with its profile, and whether it kept it. */
export interface ProfileTuningRecord {
  readonly mode: ScoringMode;
  readonly grid: number;
  /** Absent: "input" (records before frame coordinates). */
  readonly coords?: ProfileCoords;
  readonly classes: Readonly<Record<string, { readonly normals: number; readonly base?: ProfileFigures; readonly standardized?: ProfileFigures; readonly chosen: boolean; readonly why: string }>>;
}

/**
 * How far apart two pseudo-validation image AUROCs must be to differ: a class's 20 synthesized anomalies against its
 * 25 held-out normals move it by 0.002 per pair ranked the other way, so half a point is a pair or two.
 */
export const PROFILE_AUROC_TIE = 0.005;

/**
 * Whether a class keeps its profile: its synthesized anomalies' image AUROC
 * must rise, or at a tie (within PROFILE_AUROC_TIE: the set often ranks
 * every anomaly first either way) the anomalies must stand farther from the
 * normals. Normals are scored against the others' profile, so the figures
 * are not flattered by a profile that knows the frame.
 */
export function keepsProfile(base: ProfileFigures, standardized: ProfileFigures): boolean {
  const [b, s] = [base.image_auroc, standardized.image_auroc];
  if (b === null || s === null) return false;
  if (Math.abs(s - b) > PROFILE_AUROC_TIE) return s > b;
  return standardized.separation !== null && base.separation !== null && standardized.separation > base.separation;
}

/** A tuning record as a log line. */
export function describeProfileChoice(r: ProfileTuningRecord): string {
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "-" : (100 * v).toFixed(1));
  const sep = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(1));
  const parts = Object.entries(r.classes).map(([cls, c]) =>
    c.base && c.standardized ? `${cls} ${pct(c.base.image_auroc)} → ${pct(c.standardized.image_auroc)}, separation ${sep(c.base.separation)} → ${sep(c.standardized.separation)}${c.chosen ? " (kept)" : ""}` : `${cls} (${c.why})`,
  );
  const kept = Object.entries(r.classes).filter(([, c]) => c.chosen).map(([cls]) => cls);
  return `position profile (${r.mode} mode, ${r.coords ?? "input"} coordinates, pseudo-validation image AUROC without → with): ${parts.join("; ")}; ${kept.length ? `kept for ${kept.join(", ")}` : "kept for no class"}`;
}
