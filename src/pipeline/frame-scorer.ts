/**
 * Scores one standardized feature map: the part of a frame's path after the
 * backbone, shared by fit (threshold calibration), eval and serving so they
 * cannot drift apart.
 *   knn:      per-position distance to the nearest coreset slice (PatchCore-style)
 *   lafite:   edit (Eq. 10) → corrupt to τ and DDIM-reconstruct (Eq. 7, 8, 11) → ‖x_rec − x‖²
 *   edit-only: edit (Eq. 10) → ‖e − x‖² (no diffusion; the ablation of what it adds)
 *   no-edit:  reconstruct the raw features
 * then the anomaly map and image score of Eq. 12.
 */
import type { FeatureMap, ScoringMode } from "./types.js";
import { DIFFUSION_MODES } from "../model/types.js";
import type { KnnResult, OnnxKnn } from "../model/memory/onnx-knn.js";
import { toRows } from "../model/feature-stats.js";
import { anomalyMap, imageScoreOf, reconstructionError, type ImageScoreRule } from "../model/scoring/anomaly-map.js";
import { editFeatures } from "../model/memory/editing.js";
import { blendPositionScores, channelSlice, type ChannelRange, type ScoreNormalizer } from "../model/scoring/detail-bank.js";
import { classOfVotes, classVotes, UNTAGGED } from "../model/memory/row-classes.js";
import { frameContext, withContext } from "../model/scoring/context-bank.js";
import type { MainSetting, ScoreMemo } from "./score-memo.js";
import { longSide, sizeFactor, type SizeTrend } from "../model/scoring/size-trend.js";
import type { ClassProfile } from "../model/scoring/position-profile.js";

/** The detail bank as a scorer uses it: its search over the detail channels, the weight and both banks' normalizers in this mode. */
export interface DetailSearch {
  readonly knn: OnnxKnn;
  readonly channels: ChannelRange;
  readonly weight: number;
  readonly main: ScoreNormalizer;
  readonly detail: ScoreNormalizer;
  /** W by class index of the bank's row classes (classWeightTable): a frame gets its class's W, `weight` when none is read. */
  readonly classWeights?: Float64Array;
  /** The image score's W by class index, where the model gives it its own (DetailScoring.imageClassWeights); absent: classWeights. */
  readonly imageClassWeights?: Float64Array;
}

/** The context bank as a scorer uses it (scoring/context-bank.ts): its search, λ, the channels a frame's context is the mean of, W and the normalizers in this mode. */
export interface ContextSearch {
  readonly knn: OnnxKnn;
  readonly channels: ChannelRange;
  readonly lambda: number;
  readonly weight: number;
  /** The main scores' normalizer (after the detail blend) and the context bank's. */
  readonly main: ScoreNormalizer;
  readonly context: ScoreNormalizer;
  /** W by class index of the bank's row classes; which of them a frame gets is frameContextWeight's rule. */
  readonly classWeights?: Float64Array;
  /** W by class index for the image score, where the model gives it its own (ContextScoring.imageClassWeights); absent: classWeights. */
  readonly imageClassWeights?: Float64Array;
}

/** Position scores on the h×w grid, with what they cost and what the main search found. */
export interface PositionScores {
  readonly values: Float32Array;
  readonly edit: number;
  readonly diffusion: number;
  /** The main bank's nearest row per position (absent in no-edit mode, which does not search). */
  readonly nearest?: Int32Array;
  /** The detail-bank weight these scores were blended with (absent: no detail bank). */
  readonly weight?: number;
  /** The context-bank weight blended in after it (frameContextWeight; absent: no context bank). */
  readonly contextWeight?: number;
  /** The position scores the image score is taken from, where its detail weight (imageWeight) or context weight (imageContextWeight) differs from the heatmap's; absent: `values`. */
  readonly imageValues?: Float32Array;
  /** The image score's detail-bank weight, where it differs from `weight`. */
  readonly imageWeight?: number;
  readonly imageContextWeight?: number;
  /** The frame's class, an index into the bank's row-class names (by the class means, else the votes; -1: none read); absent when the bank records no row classes or the mode does not search it. */
  readonly frameClass?: number;
  /** The class whose detail weight these scores were blended with: the caller's (judgeAs) when given, else frameClass; -1 or absent as frameClass. */
  readonly judgedClass?: number;
  /** Per class (by index), the cells whose nearest rows belong to it: how clearly the frame's cells read as each class (what frameClass is read by without class means). Absent with frameClass. */
  readonly classVotes?: Int32Array;
}

/** Reconstructs a feature map with the diffusion model (src/model/diffusion). */
export interface FeatureReconstructor {
  reconstruct(e: FeatureMap, seed: number): Promise<FeatureMap>;
}

export interface ScoringSettings {
  readonly mode: ScoringMode;
  /** Side of the square map the score lives on (the backbone input size S). */
  readonly mapSize: number;
  readonly sigma: number;
  readonly pool: number;
  /** Image score rule (anomaly-map.ts imageScoreOf); absent = pool. */
  readonly imageScore?: ImageScoreRule;
  readonly top?: number;
  /** Editing neighbours K. */
  readonly k: number;
}

export interface ScoredMap {
  /** S×S anomaly map after upsampling and blur. */
  readonly map: Float32Array;
  /** The S×S map the image score is taken from: `map` itself, or the one at the image score's context weight; after the size correction, before the position profile. */
  readonly scoreMap: Float32Array;
  readonly score: number;
  /**
   * Where the judged class has a position profile: `map` in units of that class's normal spread at each place, the units
   * of its score and threshold, so the served heatmap, mask and regions measure the map against the threshold the verdict
   * used (`map` itself is in the bank's distance units, which a profiled class's threshold is not).
   */
  readonly profiledMap?: Float32Array;
  /** The frame's class (frameClass: by the class means, else its cells' nearest bank rows), when the bank knows its rows' classes and the mode searches it. */
  readonly class?: string;
  /** The class the frame was judged as (its detail weight, and its threshold in the detector): the caller's class when the model has it, else `class`. */
  readonly judgedAs?: string;
  /** Each class's share of the frame's voting cells (those whose nearest rows name a class), classes with none left out: how clearly its cells read as `class`. */
  readonly classShares?: Readonly<Record<string, number>>;
  readonly timings: { edit: number; diffusion: number; score: number };
}

export class FrameScorer {
  constructor(
    readonly settings: ScoringSettings,
    /** The coreset search; no-edit mode never searches, so it has none. */
    private readonly knn: OnnxKnn | undefined,
    /** Coreset rows (n × c), needed by editing. */
    private readonly coreset: Float32Array,
    private readonly reconstructor?: FeatureReconstructor,
    /** The detail bank, blended into the position scores (scoring/detail-bank.ts); absent = the main bank alone. */
    private readonly detail?: DetailSearch,
    /**
     * Each bank row's voting class (memory/row-classes.ts votingClasses) and the class names; `read`, where the model
     * has class means (memory/class-means.ts), reads a frame's class by them, else its cells' votes do.
     */
    private readonly classes?: { readonly rowClass: Int32Array; readonly names: readonly string[]; readonly read?: (x: FeatureMap) => number },
    /** The context bank, blended in after the detail bank (scoring/context-bank.ts); absent = none. */
    private readonly context?: ContextSearch,
    /** A memo of the main bank's searches and passes over maps scored again and again (score-memo.ts), with this scorer's setting; absent = none. */
    private readonly memo?: { readonly memo: ScoreMemo; readonly setting: MainSetting },
    /** The size correction's trend by class index of the bank's row classes (scoring/size-trend.ts), for this scorer's mode; absent: none. */
    private readonly sizes?: readonly (SizeTrend | undefined)[],
    /** The position profile by class index of the bank's row classes (scoring/position-profile.ts), for this scorer's mode: the judged class's standardizes the image score's map; absent: none. */
    private readonly profiles?: readonly (ClassProfile | undefined)[],
  ) {
    if (DIFFUSION_MODES.includes(settings.mode) && !reconstructor) throw new Error(`scoring mode '${settings.mode}' needs a diffusion model, and the bundle has none`);
    if (settings.mode !== "no-edit" && !knn) throw new Error(`scoring mode '${settings.mode}' needs the coreset search`);
  }

  /**
   * The classes a frame can be read or judged as: the bank's row classes, less
   * the rows a refresh added from untagged frames (they name no class).
   */
  get classNames(): readonly string[] {
    return this.classes ? this.classes.names.filter((name) => name !== UNTAGGED) : [];
  }

  /** A class name's index among the bank's row classes, -1 when the model has no such class (or the name is UNTAGGED's). */
  classIndex(name: string | undefined): number {
    if (name === undefined || name === UNTAGGED || !this.classes) return -1;
    return this.classes.names.indexOf(name);
  }

  /**
   * Per-position anomaly values on the h×w grid: the main bank's, blended with
   * the detail bank's when there is one, at the weight of class `judgeAs`
   * (an index into the row-class names) when given, else of the class the
   * frame reads as. `exclude`: bank rows every search leaves out (score's leaveOut).
   */
  async positionScores(x: FeatureMap, seed: number, judgeAs = -1, exclude?: ReadonlySet<number>): Promise<PositionScores> {
    const searched = await this.mainPositionScores(x, seed, exclude);
    // Read once: the frame's class picks its detail weight here and its threshold in the detector, unless the caller names the class.
    const votes = this.classes && searched.nearest ? classVotes(searched.nearest, this.classes.rowClass, this.classes.names.length, x) : undefined;
    const read = votes ? (this.classes!.read ? this.classes!.read(x) : classOfVotes(votes)) : undefined;
    const judged = judgeAs >= 0 ? judgeAs : read;
    const main = { ...searched, ...(read !== undefined ? { frameClass: read, classVotes: votes } : {}), ...(judged !== undefined ? { judgedClass: judged } : {}) };
    const detailed = await this.detailBlend(main, x, judged ?? -1, exclude);
    const c = this.context;
    const mapWeight = frameContextWeight(c, votes, judgeAs);
    const imageWeight = c?.imageClassWeights ? frameContextWeight({ weight: c.weight, classWeights: c.imageClassWeights }, votes, judgeAs) : mapWeight;
    return this.contextBlend(detailed, x, mapWeight, imageWeight, exclude !== undefined);
  }

  /**
   * The detail bank's blend at the weight of class `cls`, and at the image score's weight where that differs (one search
   * serves both: `imageValues`); W 0 is the main bank exactly (the blend's identity): no search when both are 0.
   */
  private async detailBlend(main: PositionScores, x: FeatureMap, cls: number, exclude?: ReadonlySet<number>): Promise<PositionScores> {
    const d = this.detail;
    if (!d) return main;
    const weight = detailWeightOf(d, cls);
    const imageWeight = d.imageClassWeights ? detailWeightOf({ weight: d.weight, classWeights: d.imageClassWeights }, cls) : weight;
    if (weight === 0 && imageWeight === 0) return { ...main, weight };
    const t0 = performance.now();
    const found = (await nearestDistances(d.knn, channelSlice(x, d.channels), exclude)).values;
    const at = (w: number) => (w === 0 ? main.values : blendPositionScores(main.values, found, w, d.main, d.detail));
    const values = at(weight);
    const image = imageWeight !== weight ? { imageValues: at(imageWeight), imageWeight } : {};
    return { ...main, values, weight, ...image, edit: main.edit + performance.now() - t0 };
  }

  /**
   * The context bank's blend at `contextWeight` (frameContextWeight), after the detail bank's, and at `imageWeight` for
   * the image score where that differs (one search serves both); both 0: no search.
   * Its rows are its own, so a frame scored as unseen (`leaveOut`: the main search's copies excluded) has its copies there found apart.
   */
  private async contextBlend(scores: PositionScores, x: FeatureMap, contextWeight: number, imageWeight: number, leaveOut: boolean): Promise<PositionScores> {
    const c = this.context;
    if (!c) return scores;
    if (contextWeight === 0 && imageWeight === 0) return { ...scores, contextWeight };
    const t0 = performance.now();
    const query = withContext(x, frameContext(x, c.channels), c.lambda);
    const exclude = leaveOut ? await c.knn.copiesOf(toRows(query), x.h * x.w) : undefined;
    const found = (await nearestDistances(c.knn, query, exclude)).values;
    const at = (base: Float32Array, w: number) => (w === 0 ? base : blendPositionScores(base, found, w, c.main, c.context));
    const values = at(scores.values, contextWeight);
    // The image score's blend starts from the detail bank's image values where its W differs from the heatmap's.
    const image = scores.imageValues || imageWeight !== contextWeight ? { imageValues: at(scores.imageValues ?? scores.values, imageWeight), imageContextWeight: imageWeight } : {};
    return { ...scores, values, contextWeight, ...image, edit: scores.edit + performance.now() - t0 };
  }

  private async mainPositionScores(x: FeatureMap, seed: number, exclude?: ReadonlySet<number>): Promise<PositionScores> {
    // A search that leaves rows out is the frame's own: never memoized.
    const memo = exclude === undefined ? this.memo : undefined;
    const t0 = performance.now();
    const known = memo?.memo.main(x, memo.setting);
    if (known) return { ...known, edit: performance.now() - t0, diffusion: 0 };
    const scores = await this.searchAndReconstruct(x, seed, exclude, memo?.memo);
    memo?.memo.remember(x, memo.setting, { values: scores.values, ...(scores.nearest ? { nearest: scores.nearest } : {}) });
    return scores;
  }

  private async searchAndReconstruct(x: FeatureMap, seed: number, exclude: ReadonlySet<number> | undefined, memo: ScoreMemo | undefined): Promise<PositionScores> {
    const { mode } = this.settings;
    const hw = x.h * x.w;
    const search = (k: number) => (memo ? memo.search(x, k) : this.knn!.search(toRows(x), hw, exclude));
    let t0 = performance.now();
    if (mode === "knn") return { ...nearestOf(await search(1), 1), edit: performance.now() - t0, diffusion: 0 };
    let e = x;
    let nearest: Int32Array | undefined;
    if (mode === "lafite" || mode === "edit-only") {
      const res = await search(this.knn!.k);
      const d = new Float32Array(res.distances.length);
      for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(res.distances[i]!);
      e = editFeatures(x, res.indices, d, this.knn!.k, this.coreset, x.c);
      nearest = firstOfEach(res.indices, this.knn!.k);
    }
    const edit = performance.now() - t0;
    if (mode === "edit-only") return { values: reconstructionError(e, x), edit, diffusion: 0, ...(nearest ? { nearest } : {}) };
    t0 = performance.now();
    const rec = await this.reconstructor!.reconstruct(e, seed);
    const diffusion = performance.now() - t0;
    const values = reconstructionError(rec, x);
    return { values, edit, diffusion, ...(nearest ? { nearest } : {}) };
  }

  /**
   * The frame's noise seed is a hash of its own features, so a frame always
   * scores the same (fit, eval and serving alike). `judgeAs`: the class the
   * caller says the frame is (a line's recipe); it sets the detail weight when
   * the model has that class, whatever the frame reads as. `leaveOut`: score
   * a frame whose slices the bank holds copies of (a training image) as if
   * it had not been fitted, every search leaving those rows out.
   */
  async score(x: FeatureMap, judgeAs?: string, options: { leaveOut?: boolean } = {}): Promise<ScoredMap> {
    let exclude: ReadonlySet<number> | undefined;
    if (options.leaveOut) {
      if (!this.knn) throw new Error(`scoring mode '${this.settings.mode}' does not search the bank, so it cannot leave a frame's rows out`);
      exclude = await this.knn.copiesOf(toRows(x), x.h * x.w);
    }
    const seed = seedOfFeatures(x);
    const { values, imageValues, edit, diffusion, frameClass: cls = -1, judgedClass: judged = -1, classVotes: votes } = await this.positionScores(x, seed, this.classIndex(judgeAs), exclude);
    const t0 = performance.now();
    const S = this.settings.mapSize;
    const map = anomalyMap(values, x.h, x.w, S, this.settings.sigma);
    // The image score's own map, where its context weight differs from the heatmap's.
    const scoreMap = imageValues ? anomalyMap(imageValues, x.h, x.w, S, this.settings.sigma) : map;
    // The judged class's size correction scales the map and so the score, its reduction (pooling and top-k averages commute with a factor).
    const trend = judged >= 0 && x.frameSize ? this.sizes?.[judged] : undefined;
    const factor = trend ? sizeFactor(trend, longSide(x.frameSize!)) : 1;
    if (factor !== 1) for (const m of scoreMap === map ? [map] : [map, scoreMap]) for (let i = 0; i < m.length; i++) m[i]! *= factor;
    // The judged class's position profile: the score counts each place in its own normals' spread (a normal it was measured on, against the others').
    const profile = judged >= 0 ? this.profiles?.[judged] : undefined;
    const standardized = profile ? profile.standardize(scoreMap, seed, x.place) : undefined;
    const score = imageScoreOf(standardized ?? scoreMap, S, this.settings);
    // The heatmap's own map in the same units (its detail or context weight can differ from the image score's).
    const profiledMap = profile ? (scoreMap === map ? standardized : profile.standardizeHeatmap(map, seed, x.place)) : undefined;
    const names = this.classes?.names;
    return {
      map,
      scoreMap,
      score,
      ...(profiledMap ? { profiledMap } : {}),
      ...(cls >= 0 && names ? { class: names[cls]! } : {}),
      ...(judged >= 0 && names ? { judgedAs: names[judged]! } : {}),
      ...(votes && names && cls >= 0 ? { classShares: sharesOf(votes, names) } : {}),
      timings: { edit, diffusion, score: performance.now() - t0 },
    };
  }
}

/** Each named class's share of the votes, classes without votes left out. */
function sharesOf(votes: Int32Array, names: readonly string[]): Record<string, number> {
  let total = 0;
  for (const v of votes) total += v;
  const out: Record<string, number> = {};
  votes.forEach((v, c) => {
    if (v > 0) out[names[c]!] = v / total;
  });
  return out;
}

/** L2 distance from each position of x to its nearest row of the search, and that row. */
async function nearestDistances(knn: OnnxKnn, x: FeatureMap, exclude?: ReadonlySet<number>): Promise<{ values: Float32Array; nearest: Int32Array }> {
  return nearestOf(await knn.search(toRows(x), x.h * x.w, exclude), knn.k);
}

/** Each position's distance to its nearest row and that row, from a search of k neighbours per position. */
function nearestOf(res: KnnResult, k: number): { values: Float32Array; nearest: Int32Array } {
  const hw = res.distances.length / k;
  const values = new Float32Array(hw);
  for (let i = 0; i < hw; i++) values[i] = Math.sqrt(res.distances[i * k]!);
  return { values, nearest: firstOfEach(res.indices, k) };
}

/** A class must hold at least this share of a frame's votes (classVotes) for its context weight to reach the frame. */
export const CONTEXT_MIN_SHARE = 0.2;

/**
 * A frame's context weight: the W of class `judgeAs` when the caller names one (a line's recipe), else the largest W
 * among the classes that hold at least CONTEXT_MIN_SHARE of its votes, the model's W when none voted or the bank
 * records no classes. Not the read class's alone, because two classes may share
 * most of their look: the realistic suite's kit (eight nuts, all steel or all brass) has steel frames just like the
 * assembly's, and 26 of its 44 test frames read as assembly (kit's share of their votes 0.27–0.49); with the read
 * class's W they went unweighted. Not each position's nearest row's class either: a tile's or a nut's stray
 * positions whose nearest rows were kit's drew the whole frame into a context search that holds none of its class's
 * rows (cast tiles 93.7 → 48.8 image AUROC).
 */
export function frameContextWeight(c: Pick<ContextSearch, "weight" | "classWeights"> | undefined, votes: Int32Array | undefined, judgeAs = -1): number {
  if (!c) return 0;
  if (judgeAs >= 0) return detailWeightOf(c, judgeAs);
  if (!votes || !c.classWeights) return c.weight;
  let total = 0;
  for (const v of votes) total += v;
  if (total === 0) return c.weight;
  const cls = frameContextClass(c.classWeights, votes);
  return cls >= 0 ? c.classWeights[cls]! : 0;
}

/**
 * The class whose W frameContextWeight gives an unnamed frame: the one with the largest W above 0 among the classes
 * holding at least CONTEXT_MIN_SHARE of its votes (ties to the lower index); -1 when no such class has a W above 0.
 * A lifecycle refresh files an untagged accepted frame's context rows under it: the class whose search served it.
 */
export function frameContextClass(classWeights: ArrayLike<number>, votes: Int32Array): number {
  let total = 0;
  for (const v of votes) total += v;
  let best = -1;
  votes.forEach((v, cls) => {
    const w = classWeights[cls] ?? 0;
    if (total > 0 && v >= CONTEXT_MIN_SHARE * total && w > 0 && (best < 0 || w > classWeights[best]!)) best = cls;
  });
  return best;
}

/** The first of every run of k: the nearest row per position of a k-nearest search. */
function firstOfEach(indices: Int32Array, k: number): Int32Array {
  if (k === 1) return indices;
  return Int32Array.from({ length: indices.length / k }, (_, i) => indices[i * k]!);
}

/** A frame's W (detail or context bank): its class's (`cls`, read by frameClass; -1: none) when the model has per-class weights, else the model's. */
export function detailWeightOf(d: { readonly weight: number; readonly classWeights?: Float64Array }, cls: number): number {
  return d.classWeights && cls >= 0 ? d.classWeights[cls]! : d.weight;
}

/** FNV-1a over a strided sample of the feature bits: cheap, and identical for identical inputs. */
export function seedOfFeatures(x: FeatureMap): number {
  const bits = new Int32Array(x.data.buffer, x.data.byteOffset, x.data.length);
  let h = 0x811c9dc5;
  for (let i = 0; i < bits.length; i += 61) h = Math.imul(h ^ bits[i]!, 16777619);
  return h >>> 0;
}
