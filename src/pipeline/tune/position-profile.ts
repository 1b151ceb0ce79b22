/**
 * Which classes' image scores get their position profile
 * (model/scoring/position-profile.ts): each class's held-out normals and
 * synthesized anomalies scored in the served mode at the final settings
 * (size correction included), judged as their own class; the normals' maps
 * make the profile; the class keeps it where its anomalies' image AUROC
 * rises, or ties (within half a point) and their separation from the normals rises
 * (keepsProfile). Each normal is scored against the others' profile.
 *
 * Positions are places of the frame (PROFILE_COORDS_FIT): each map's
 * placement, the frame's rectangle in the letterboxed input, divided into
 * the grid. So a class of many frame sizes and aspect ratios has one
 * profile, whose border is every frame's edge. On the realistic suite, the
 * tiles of many sizes went from 91.1 / 94.2 image AUROC without a profile
 * to 93.3 / 90.6 with one in input coordinates and 97.1 / 93.4 in frame
 * coordinates (two lafite fits; defects caught at the 0.99 quantile 19 → 25
 * and 16 → 25 of 36, no good frame flagged); the classes of one size gained
 * as much either way (`npm run bench:profile -- --coords`).
 */
import type { FeatureMap } from "../../model/types.js";
import type { Placement } from "../../image/geometry.js";
import { auroc, separation } from "../../measures/metrics.js";
import { imageScoreOf } from "../../model/scoring/anomaly-map.js";
import {
  ClassProfile,
  keepsProfile,
  MIN_PROFILE_NORMALS,
  PROFILE_GRID,
  ProfileSums,
  profileGridMap,
  profileRect,
  type ClassProfileSums,
  type ProfileCoords,
  type PositionProfiles,
  type ProfileFigures,
  type ProfileTuningRecord,
} from "../../model/scoring/position-profile.js";
import { openScorer } from "../open-scorer.js";
import { seedOfFeatures, type FrameScorer } from "../frame-scorer.js";
import { throwIfCancelled, type Progress } from "../../util/progress.js";
import { checkRemeasureInput, type RemeasureInput, type TuneCorrectionInput } from "./correction-input.js";

/** A frame of a class, as tuning or a lifecycle re-measure has it. */
export interface ProfileFrame {
  readonly cls: string;
  readonly anomalous: boolean;
  readonly x: FeatureMap;
}

/** Where the profiles fit measures are: places of the frame (ProfileCoords). */
export const PROFILE_COORDS_FIT: ProfileCoords = "frame";

export interface ProfileTuneInput extends TuneCorrectionInput<ProfileFrame> {
  /**
   * The fewest held-out normals a profiled class needs (threshold.minClassNormals; never under MIN_PROFILE_NORMALS):
   * its scores are in its own units, so it must get a threshold of its own.
   */
  readonly minClassNormals?: number;
}

export async function tuneProfiles(input: ProfileTuneInput): Promise<{ profiles?: PositionProfiles; record: ProfileTuningRecord }> {
  const { profiles: _measuredWithout, ...settings } = input.settings;
  const S = settings.mapSize;
  const coords = PROFILE_COORDS_FIT;
  const byClass = profileCandidates(input.set, coords, minNormalsOf(input.minClassNormals));
  const classes: Record<string, ProfileTuningRecord["classes"][string]> = {};
  const kept: Record<string, ClassProfileSums> = {};
  const opened = await openScorer(input.mode, input.parts, settings, input.sessionOptions);
  try {
    // Classes the read pass rules out were counted in the work: their frames are done without scoring.
    for (const cls of await excludeMisread(byClass, input.set, opened.scorer, input)) input.progress?.tick(byClass.get(cls)!.normals.length + byClass.get(cls)!.anomalies.length);
    for (const [cls, c] of byClass) {
      if (c.why) {
        classes[cls] = { normals: c.normals.length, chosen: false, why: c.why };
        continue;
      }
      const { record, scored: normals } = await measureClass(opened.scorer, c.normals.map((f) => f.x), cls, PROFILE_GRID, coords, input);
      const anomalies = await scoreFrames(opened.scorer, c.anomalies.map((f) => f.x), cls, input);
      const profile = new ClassProfile(record, PROFILE_GRID, S, coords);
      const labels = [...normals.map(() => 0), ...anomalies.map(() => 1)];
      const all = [...normals, ...anomalies];
      const base = figures(all.map((f) => f.score), labels);
      const standardized = figures(all.map((f) => imageScoreOf(profile.standardize(f.scoreMap, f.fingerprint, f.place), S, settings)), labels);
      const chosen = keepsProfile(base, standardized);
      classes[cls] = { normals: normals.length, base, standardized, chosen, why: chosen ? "kept" : base.image_auroc === null ? "no anomaly" : "not better" };
      if (chosen) kept[cls] = record;
    }
  } finally {
    await opened.release();
  }
  const record: ProfileTuningRecord = { mode: input.mode, grid: PROFILE_GRID, coords, classes };
  return Object.keys(kept).length > 0 ? { profiles: { mode: input.mode, grid: PROFILE_GRID, coords, classes: kept }, record } : { record };
}

/** How many scorings tuneProfiles does over this set (its progress total, at most): the read pass over its normals, and the frames of the classes it can profile. */
export function profileTuneWork(set: readonly ProfileFrame[], minClassNormals?: number): number {
  return set.filter((f) => !f.anomalous).length + [...profileCandidates(set, PROFILE_COORDS_FIT, minNormalsOf(minClassNormals)).values()].reduce((a, c) => a + (c.why ? 0 : c.normals.length + c.anomalies.length), 0);
}

/**
 * A frame is judged as the class it reads as, and standardized by that class's profile. A class some
 * normal of another class reads as would standardize that frame by a profile of other parts (on the realistic suite
 * most of kit's frames read as the assembly, whose profile sent their scores to 3–4 times its threshold): it is not
 * profiled. Nor is a class some of whose own normals read as another class: its frames that do are scored in that
 * class's units, not its profile's, so its scores would mix units and rank such a good frame above its defects. The
 * realistic suite's tiles (6–8 of 70 normals, and 3–4 of 61 test frames, read as the 1024-px sheet) kept a profile
 * without this rule, and their image AUROC fell 91.1 → 89.1 and 94.2 → 88.1 although more defects were caught
 * (19 → 24 and 18 → 23 of 36). Read as served, without a class tag, over the set's normals.
 */
async function excludeMisread(byClass: Map<string, { normals: ProfileFrame[]; why?: string }>, set: readonly ProfileFrame[], scorer: FrameScorer, input: Reporting): Promise<string[]> {
  const intruders = new Map<string, Set<string>>();
  const strays = new Map<string, number>();
  for (const f of set) {
    if (f.anomalous) continue;
    throwIfCancelled(input.signal, "position profile");
    const read = (await scorer.score(f.x)).class;
    input.progress?.tick();
    // Normals only: an anomaly read as another class is NG whatever profile scores it, a normal would be a false alarm.
    if (read === undefined || read === f.cls) continue;
    intruders.set(read, (intruders.get(read) ?? new Set()).add(f.cls));
    strays.set(f.cls, (strays.get(f.cls) ?? 0) + 1);
  }
  const excluded: string[] = [];
  for (const [cls, c] of byClass) {
    if (c.why) continue;
    const others = intruders.get(cls);
    if (others) c.why = `normals of ${[...others].sort().join(", ")} read as it`;
    else if (strays.has(cls)) c.why = `${strays.get(cls)} of its normals read as another class`;
    if (c.why) excluded.push(cls);
  }
  return excluded;
}

/** The set by class, with the reason a class cannot be profiled (whyNotProfiled). */
function profileCandidates(set: readonly ProfileFrame[], coords: ProfileCoords, minNormals: number): Map<string, { normals: ProfileFrame[]; anomalies: ProfileFrame[]; why?: string }> {
  const out = new Map<string, { normals: ProfileFrame[]; anomalies: ProfileFrame[]; why?: string }>();
  for (const f of set) {
    const c = out.get(f.cls) ?? { normals: [], anomalies: [] };
    (f.anomalous ? c.anomalies : c.normals).push(f);
    out.set(f.cls, c);
  }
  for (const c of out.values()) {
    const why = whyNotProfiled(c.normals.map((f) => f.x), coords, minNormals);
    if (why) c.why = why;
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** How a pass is cancelled and reports: tuning ticks its stage's progress, a lifecycle re-measure counts scorings. */
interface Reporting {
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  readonly onScored?: () => void;
}

interface ScoredFrame {
  readonly score: number;
  readonly scoreMap: Float32Array;
  /** The heatmap: scoreMap itself unless the class's heatmap weighs its detail or context bank with another W. */
  readonly map: Float32Array;
  readonly fingerprint: number;
  readonly place?: Placement;
}

/** Each frame scored as class `cls` (its image score and the map it is taken from), with its fingerprint. */
async function scoreFrames(scorer: FrameScorer, frames: readonly FeatureMap[], cls: string, input: Reporting): Promise<ScoredFrame[]> {
  const out: ScoredFrame[] = [];
  for (const x of frames) {
    throwIfCancelled(input.signal, "position profile");
    const scored = await scorer.score(x, cls);
    out.push({ score: scored.score, scoreMap: scored.scoreMap, map: scored.map, fingerprint: seedOfFeatures(x), ...(x.place ? { place: x.place } : {}) });
    input.progress?.tick();
    input.onScored?.();
  }
  return out;
}

/**
 * A class's profile sums from its normals scored as it (tuning and the lifecycle's re-measure alike), and those
 * scorings: of the maps its image score is taken from, and of its heatmaps where they are other maps.
 */
async function measureClass(scorer: FrameScorer, normals: readonly FeatureMap[], cls: string, grid: number, coords: ProfileCoords, input: Reporting): Promise<{ record: ClassProfileSums; scored: ScoredFrame[] }> {
  const scored = await scoreFrames(scorer, normals, cls, input);
  const S = scorer.settings.mapSize;
  const sumsOf = (mapOf: (n: ScoredFrame) => Float32Array) => {
    const sums = new ProfileSums(grid * grid);
    for (const n of scored) sums.add(profileGridMap(mapOf(n), S, grid, profileRect(coords, S, n.place)));
    return sums.record();
  };
  const heatmapsDiffer = scored.some((n) => n.map !== n.scoreMap);
  return { record: { members: scored.map((n) => n.fingerprint), ...sumsOf((n) => n.scoreMap), ...(heatmapsDiffer ? { heatmap: sumsOf((n) => n.map) } : {}) }, scored };
}

function figures(scores: readonly number[], labels: readonly number[]): ProfileFigures {
  const both = labels.includes(0) && labels.includes(1);
  return { image_auroc: both ? auroc(scores, labels) : null, separation: both ? separation(scores, labels) : null };
}

/**
 * The kept classes' profiles measured again on a model's held-out normals, as it will serve them otherwise (a
 * lifecycle refresh or retrain moves its maps): which classes keep a profile stays as tuning chose. A class with fewer
 * than MIN_PROFILE_NORMALS normals among `maps`, or (in input coordinates) whose normals are not all one frame size
 * (accepted frames of another size), keeps its profile. Measured without a profile in the settings.
 */
export async function remeasureProfiles(input: RemeasureInput & { readonly profiles: PositionProfiles }): Promise<{ profiles: PositionProfiles; normals: Record<string, number> }> {
  checkRemeasureInput(input);
  const { profiles: _measuredWithout, ...settings } = input.settings;
  const frames = remeasurable(input.profiles, input.maps, input.classes);
  const classes: Record<string, ClassProfileSums> = { ...input.profiles.classes };
  const normals: Record<string, number> = {};
  const opened = await openScorer(input.profiles.mode, input.parts, settings, input.sessionOptions);
  try {
    for (const cls of Object.keys(input.profiles.classes)) {
      const own = frames.get(cls) ?? [];
      normals[cls] = own.length;
      if (own.length > 0) classes[cls] = (await measureClass(opened.scorer, own, cls, input.profiles.grid, input.profiles.coords ?? "input", input)).record;
    }
  } finally {
    await opened.release();
  }
  return { profiles: { ...input.profiles, classes }, normals };
}

/** The maps remeasureProfiles scores, by class: those of a profiled class that has enough of them, that can make its profile (whyNotProfiled). */
function remeasurable(profiles: PositionProfiles, maps: readonly FeatureMap[], classes: readonly (string | undefined)[]): Map<string, FeatureMap[]> {
  const out = new Map<string, FeatureMap[]>();
  for (const cls of Object.keys(profiles.classes)) {
    const own = maps.filter((_, i) => classes[i] === cls);
    if (!whyNotProfiled(own, profiles.coords ?? "input", MIN_PROFILE_NORMALS)) out.set(cls, own);
  }
  return out;
}

/** How many scorings remeasureProfiles does over these maps (its progress total). */
export function profileRemeasureWork(profiles: PositionProfiles, maps: readonly FeatureMap[], classes: readonly (string | undefined)[]): number {
  return [...remeasurable(profiles, maps, classes).values()].reduce((a, m) => a + m.length, 0);
}

/** The fewest held-out normals tuning profiles a class with: MIN_PROFILE_NORMALS, or threshold.minClassNormals when higher. */
function minNormalsOf(minClassNormals: number | undefined): number {
  return Math.max(MIN_PROFILE_NORMALS, minClassNormals ?? MIN_PROFILE_NORMALS);
}

/**
 * Why a class's normals cannot make a profile, or undefined: fewer than `minNormals`, or of unknown size; in input
 * coordinates also of several frame sizes (a place of the input is a place of the product only when every frame is
 * fitted into it alike).
 */
function whyNotProfiled(normals: readonly FeatureMap[], coords: ProfileCoords, minNormals: number): string | undefined {
  if (normals.length < minNormals) return `${normals.length} held-out normals, under ${minNormals}`;
  if (coords === "frame") return normals.some((x) => !x.place) ? "frame size unknown" : undefined;
  const sizes = new Set(normals.map((x) => (x.frameSize ? `${x.frameSize.width}×${x.frameSize.height}` : "unknown")));
  if (sizes.size > 1) return `normals of ${sizes.size} frame sizes`;
  if (sizes.has("unknown")) return "frame size unknown";
  return undefined;
}
