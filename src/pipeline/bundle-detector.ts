/**
 * A Detector over a loaded bundle: the whole path of one frame, top to bottom:
 * decode → resize to S×S → backbone → standardize → score (knn | lafite |
 * no-edit) → anomaly map → verdict. Frames are processed one at a time in
 * arrival order: on a 2-core box concurrent ORT runs only fight over cores.
 */
import { decodeFrame, type DecodeLimits, DEFAULT_LIMITS, type RgbImage } from "../image/decode.js";
import { cropToPlacement, placement, type Aspect, type FrameFit } from "../image/geometry.js";
import { correctEdges, edgeDistanceCache, type EdgeProfiles } from "../model/scoring/edge-profile.js";
import { standardizeInPlace, type FeatureStats } from "../model/feature-stats.js";
import { resizeBilinear } from "../model/scoring/anomaly-map.js";
import type { BackboneRunner } from "../model/backbone-runner.js";
import type { LookReading } from "../model/memory/class-means.js";
import type { FrameScorer } from "./frame-scorer.js";
import { mapAgreeingWithVerdict } from "./verdict-map.js";
import { cropImage, stitchMaps, tileRects, type TileRect } from "../image/tiles.js";
import { combineTiles, tileFactors } from "../model/tiling.js";
import type { Detection, DetectOptions, Detector, FeatureMap, FrameInput, ModelInfo, StageTimings } from "./types.js";
import { invalidInput } from "../util/errors.js";

export interface ScoredImage {
  readonly image: RgbImage;
  /**
   * The S×S anomaly map, in the units of `score` and `threshold`: the bank's distance units with the judged class's edge
   * correction, or, for a class with a position profile, its normals' spread at each place (values below its normals'
   * mean are negative there).
   */
  readonly map: Float32Array;
  readonly score: number;
  /** The class the frame reads as (by the class means, else its nearest bank rows), when the bank knows its rows' classes. */
  readonly class?: string;
  /** The class it was judged as: the caller's class tag when the model has that class, else `class`. */
  readonly judgedAs?: string;
  /** Each class's share of the frame's voting cells (FrameScorer's ScoredMap.classShares). */
  readonly classShares?: Readonly<Record<string, number>>;
  /** The threshold the frame is judged by unless a caller overrides it: the class it is judged as's own, else the model's. */
  readonly threshold: number;
  /** How far the frame's look lies from the mean of the class it reads as, in that class's reach, or its light outside the class's range, whichever is farther (class-means.ts lookRatioReader); absent without either. */
  readonly lookRatio?: number;
  /** How far its light lies outside the range of the class it reads as (class-means.ts lightRatio); absent without one. */
  readonly lightRatio?: number;
  /** The look ratio is above the model's unlike margin: the frame is like none of the model's classes, NG whatever its score. */
  readonly unlike?: boolean;
  /**
   * For a frame judged as a tiled class (model/tiling.ts): the whole map and the tiles' combined at the frame's size,
   * in the units of `score` (what is served instead of `map`), and the tiles' part of the score (in `score` unless the
   * class's tiles are map only).
   */
  readonly tiled?: { readonly frameMap: Float32Array; readonly tileScore: number; readonly wholeScore: number };
  readonly timings: Detection["timings"];
}

/** A tiled class's tile detector (model/tiling.ts): what its frames' tiles are scored with, and how. */
export interface TileScoring {
  readonly detector: BundleDetector;
  readonly grid: number;
  readonly overlap: number;
  readonly frameThreshold: number;
  readonly pixelUnits?: { readonly whole: number; readonly tiles: number };
  /** The tiles join only the map; the frame's score is the whole frame's (TiledClass.mapOnly). */
  readonly mapOnly: boolean;
}

/** A frame's tiles still to score: its class's tile scoring, and the factors that bring them to the class's units (tileFactors). */
interface TilesToScore {
  readonly scoring: TileScoring;
  readonly factors: { readonly score: number; readonly map: number };
}

/** The look gate a detector applies: each frame's look ratio, and the margin above which a frame is like no class. */
export interface LookGate {
  readonly ratio: (x: FeatureMap, cls: string) => LookReading | undefined;
  /** Above this ratio a frame is NG (ModelInfo.unlikeMargin); 0: the ratio is reported, never acted on. */
  readonly margin: number;
}

export class BundleDetector implements Detector {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly info: ModelInfo,
    private readonly backbone: BackboneRunner,
    private readonly stats: FeatureStats,
    private readonly scorer: FrameScorer,
    private readonly onClose: () => Promise<void>,
    private readonly limits: DecodeLimits = DEFAULT_LIMITS,
    /** The edge correction of the maps of the classes that kept it (model/scoring/edge-profile.ts); absent: none. */
    private readonly edges?: EdgeProfiles,
    /** The look gate (class means with reaches); absent: frames are not measured against their class's look. */
    private readonly look?: LookGate,
    /** The tile detectors of the tiled classes, by class; absent: none. */
    private readonly tiles?: ReadonlyMap<string, TileScoring>,
  ) {
    this.distancesOf = edges ? edgeDistanceCache(info.inputSize, edges.reach) : undefined;
  }

  /** Edge distances per frame placement: a line sends frames of a few sizes. */
  private readonly distancesOf?: (x: FeatureMap) => Int16Array;

  /** The map of features `x` with the judged class's edge correction, when it has one; the image score was taken before it. */
  private edgeCorrected(map: Float32Array, x: FeatureMap, cls: string | undefined): Float32Array {
    const correction = cls !== undefined ? this.edges?.classes[cls] : undefined;
    return correction && this.distancesOf ? correctEdges(map, this.distancesOf(x), correction) : map;
  }

  /** Runs jobs strictly one after another, whatever their callers. */
  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A frame's threshold: the own threshold of the class it is judged as when the model has one (ModelInfo.classThresholds), else the model's. */
  thresholdOf(cls: string | undefined): number {
    return (cls !== undefined ? this.info.classThresholds?.[cls] : undefined) ?? this.info.threshold;
  }

  /** How frames are fitted into the backbone's input, for mapping scores back (mapToFrame). */
  get aspect(): Aspect {
    return this.backbone.aspect;
  }

  /** How frames are fitted into the backbone's input: the aspect rule and the border that fills the rest (the bundle's). */
  get frameFit(): FrameFit {
    return this.backbone.fit;
  }

  /**
   * `classTag`: the class the caller says the frame is; the frame is judged as it (detail weight, threshold) when the model has that class.
   * `leaveOut`: a bank image scored as if it had not been fitted (calibration only).
   */
  async scoreImage(image: RgbImage, decodeMs = 0, classTag?: string, options: { leaveOut?: boolean } = {}): Promise<ScoredImage> {
    return this.serialize(async () => {
      const whole = await this.scoreWhole(image, decodeMs, classTag, options);
      return whole.tiles ? this.withTiles(whole.scored, whole.tiles) : whole.scored;
    });
  }

  /**
   * The frame scored whole, and for a frame judged as a tiled class, what its tiles are scored with (withTiles). Its
   * score is the whole frame's: withTiles adds the tiles' part.
   */
  private async scoreWhole(image: RgbImage, decodeMs: number, classTag: string | undefined, options: { leaveOut?: boolean }): Promise<{ scored: ScoredImage; tiles?: TilesToScore }> {
    const t0 = performance.now();
    const input = await this.backbone.input(image);
    const [x] = (await this.backbone.run(input, 1, [image])) as [FeatureMap];
    standardizeInPlace(x, this.stats);
    const backboneMs = performance.now() - t0;
    const scored = await this.scorer.score(x, classTag, options.leaveOut ? { leaveOut: true } : {});
    const reading = scored.class !== undefined ? this.look?.ratio(x, scored.class) : undefined;
    const lookRatio = reading?.ratio;
    // A profiled class's map is measured against its normals place by place already, as the edge correction would.
    const map = scored.profiledMap ?? this.edgeCorrected(scored.map, x, scored.judgedAs);
    const threshold = this.thresholdOf(scored.judgedAs);
    const tileScoring = scored.judgedAs !== undefined ? this.tiles?.get(scored.judgedAs) : undefined;
    return {
      scored: {
        image,
        map,
        score: scored.score,
        ...(scored.class !== undefined ? { class: scored.class } : {}),
        ...(scored.judgedAs !== undefined ? { judgedAs: scored.judgedAs } : {}),
        ...(scored.classShares !== undefined ? { classShares: scored.classShares } : {}),
        threshold,
        ...(lookRatio !== undefined ? { lookRatio } : {}),
        ...(reading?.light !== undefined ? { lightRatio: reading.light } : {}),
        unlike: lookRatio !== undefined && this.look!.margin > 0 && lookRatio > this.look!.margin,
        timings: { decode: decodeMs, backbone: backboneMs, ...scored.timings },
      },
      ...(tileScoring ? { tiles: { scoring: tileScoring, factors: tileFactors(tileScoring, threshold) } } : {}),
    };
  }

  /** `scored` (scoreWhole's) with its tiles scored: the combined map, and the score unless the class's tiles are map only. */
  private async withTiles(scored: ScoredImage, tiles: TilesToScore): Promise<ScoredImage> {
    const t1 = performance.now();
    const tiled = await this.scoreTiles(scored.image, tiles.scoring, { map: scored.map, score: scored.score }, tiles.factors);
    return {
      ...scored,
      score: tiles.scoring.mapOnly ? scored.score : tiled.score,
      tiled: { frameMap: tiled.map, tileScore: tiled.tileScore, wholeScore: scored.score },
      timings: { ...scored.timings, tiles: performance.now() - t1 },
    };
  }

  /**
   * A frame of a tiled class scored in tiles by its tile detector, each tile's map back at the tile's size, stitched,
   * and combined with the whole frame's (model/tiling.ts combineTiles) in the units of the class's threshold.
   */
  private async scoreTiles(image: RgbImage, t: TileScoring, whole: { map: Float32Array; score: number }, factors: { score: number; map: number }): Promise<{ map: Float32Array; score: number; tileScore: number }> {
    const parts: { rect: TileRect; map: Float32Array }[] = [];
    let largest = -Infinity;
    for (const rect of tileRects(image.width, image.height, t.grid, t.overlap)) {
      const scored = await t.detector.scoreImage(cropImage(image, rect), 0, t.detector.info.classes[0]);
      parts.push({ rect, map: mapToFrame(scored.map, t.detector.info.inputSize, rect.width, rect.height, t.detector.aspect) });
      largest = Math.max(largest, scored.score);
    }
    const wholeMap = mapToFrame(whole.map, this.info.inputSize, image.width, image.height, this.aspect);
    const combined = combineTiles({ map: wholeMap, score: whole.score }, { map: stitchMaps(image.width, image.height, parts), score: largest }, factors);
    return { ...combined, tileScore: factors.score * largest };
  }

  /**
   * A frame scored and judged. A frame of a class whose tiles join only its map (TiledClass.mapOnly) has its tiles
   * scored when its map is first asked for: its score and verdict are the whole frame's, and a caller that wants
   * neither heatmap, mask nor regions (a PLC's verdict) does not wait for them (a 1024-px sheet's 16 tiles: most of
   * its time).
   */
  async detect(frame: FrameInput, options: DetectOptions = {}): Promise<Detection> {
    const t0 = performance.now();
    const image = await decodeFrame(frame, this.limits);
    const { scored, later } = await this.serialize(async () => {
      const whole = await this.scoreWhole(image, performance.now() - t0, options.classTag, {});
      if (whole.tiles?.scoring.mapOnly) return { scored: whole.scored, later: whole.tiles };
      return { scored: whole.tiles ? await this.withTiles(whole.scored, whole.tiles) : whole.scored, later: undefined };
    });
    const threshold = options.threshold ?? scored.threshold;
    if (!Number.isFinite(threshold)) throw invalidInput(`threshold override ${threshold} is not a finite number`);
    // Filled in with the tiles' time once a deferred map scores them.
    const timings: StageTimings = { ...scored.timings };
    let frameMap: Promise<Float32Array> | undefined;
    const served = async (): Promise<Float32Array> => {
      const full = later ? await this.serialize(() => this.withTiles(scored, later)) : scored;
      if (full.timings.tiles !== undefined) timings.tiles = full.timings.tiles;
      return this.servedMap(full, image.width, image.height, threshold);
    };
    return {
      score: scored.score,
      threshold,
      isAnomalous: scored.score > threshold,
      ...(scored.class !== undefined ? { class: scored.class } : {}),
      ...(scored.judgedAs !== undefined ? { judgedAs: scored.judgedAs } : {}),
      ...(scored.classShares !== undefined ? { classShares: scored.classShares } : {}),
      ...(scored.lookRatio !== undefined ? { lookRatio: scored.lookRatio } : {}),
      ...(scored.lightRatio !== undefined ? { lightRatio: scored.lightRatio } : {}),
      unlike: scored.unlike,
      width: image.width,
      height: image.height,
      frameMap: () => (frameMap ??= served()),
      timings,
    };
  }

  /**
   * A scored image's map at width × height (mapToFrame) as served with its verdict at `threshold` (verdict-map.ts):
   * what detect, eval and the report's gallery show.
   */
  servedMap(scored: Pick<ScoredImage, "map" | "score" | "threshold"> & Partial<Pick<ScoredImage, "tiled" | "image">>, width: number, height: number, threshold = scored.threshold): Float32Array {
    // At the frame's size first: the letterbox's border, which the frame does not show, must not hold the peak.
    // A tiled frame's map is the whole frame's and its tiles' combined, at the frame's size already.
    const framed = scored.tiled?.frameMap;
    const { width: w, height: h } = scored.image ?? { width, height };
    const map = !framed ? mapToFrame(scored.map, this.info.inputSize, width, height, this.aspect) : w === width && h === height ? framed : resizeBilinear(framed, w, h, width, height);
    return mapAgreeingWithVerdict(map, scored.score, threshold);
  }

  async close(): Promise<void> {
    await this.tail;
    for (const t of this.tiles?.values() ?? []) await t.detector.close();
    await this.onClose();
  }
}

/** The S×S anomaly map brought back to the original frame size: the frame's part of it (geometry.ts), resized bilinearly. */
export function mapToFrame(map: Float32Array, size: number, width: number, height: number, aspect: Aspect = "stretch"): Float32Array {
  const p = placement(width, height, size, aspect);
  // Only a square frame of the input's size is the whole input (every aspect places a square frame over all of it):
  // a letterboxed frame as long as the input (224×160) still loses its border.
  if (width === size && height === size) return map;
  return resizeBilinear(cropToPlacement(map, size, p), p.w, p.h, width, height);
}
