/**
 * The typed records that flow along a frame's path:
 * decode → features → edit → reconstruct → anomaly map → verdict.
 * The server and the CLI depend only on these, never on how a mode scores.
 */

import type { FrameInput } from "../image/frame.js";
import type { ScoringMode } from "../model/types.js";

// Defined below pipeline/ (image/ and model/ need them); re-exported so the server and CLI see one place.
export type { FrameInput, PixelFormat } from "../image/frame.js";
export type { FeatureMap, ScoringMode } from "../model/types.js";

export interface DetectOptions {
  /**
   * Product/class tag from the client (the line's recipe). When it names one
   * of the model's classes (ModelInfo.classes), the frame is judged as that
   * class: its detail weight and threshold, whatever class its features read
   * as; any other tag is informational.
   */
  readonly classTag?: string;
  /** Overrides the bundle's threshold for this frame. */
  readonly threshold?: number;
}

/** Milliseconds spent in each stage of one frame. */
export interface StageTimings {
  decode: number;
  backbone: number;
  edit: number;
  diffusion: number;
  score: number;
  /** Scoring the frame's tiles, for a tiled class (model/tiling.ts): their backbone runs, searches and stitching; absent: not tiled. */
  tiles?: number;
}

export interface Detection {
  readonly score: number;
  /** The threshold this frame was judged by: the override, else that of the class it was judged as (ModelInfo.classThresholds), else the model's. */
  readonly threshold: number;
  /** The class the frame reads as (by the class means, else its nearest memory-bank rows), when the bank records its rows' classes. */
  readonly class?: string;
  /** The class the frame was judged as (detail weight, threshold): its class tag when the model has that class, else `class`. */
  readonly judgedAs?: string;
  /** Each class's share of the frame's cells that name a class by their nearest memory-bank rows (classes with none left out): how clearly it reads as `class`. */
  readonly classShares?: Readonly<Record<string, number>>;
  /** The score is above the threshold (the frame's verdict also weighs `unlike` and its class tag: class-tag.ts isNg). */
  readonly isAnomalous: boolean;
  /** How far the frame's look (its mean features) lies from the mean of the class it reads as, in units of how far that class's normals lie (its reach), or its light outside that class's range (lightRatio), whichever is farther; absent when the model has neither for it. */
  readonly lookRatio?: number;
  /** How far the frame's light (its mean level per colour channel) lies from the middle of the range of the class it reads as, in half that range's width (at least 12 levels): a failed lamp or a wrong exposure; absent when the model has no range for it. */
  readonly lightRatio?: number;
  /** The look ratio is above the model's unlike margin (ModelInfo.unlikeMargin): like none of the model's classes (an empty station, a covered lens, a frame of noise), NG whatever its score. */
  readonly unlike?: boolean;
  /** Size of the original frame. */
  readonly width: number;
  readonly height: number;
  /**
   * Anomaly map at the frame's own size (row-major, width×height), same units as score, agreeing with the
   * verdict (verdict-map.ts): some value above `threshold` exactly when `isAnomalous`.
   */
  frameMap(): Promise<Float32Array>;
  /** Each stage's milliseconds; `tiles` is filled in when a map-only tiled class's tiles are scored for frameMap. */
  readonly timings: StageTimings;
}

/** A tiled class as ModelInfo names it (model/tiling.ts). */
export interface TiledClassInfo {
  readonly grid: number;
  readonly overlap: number;
  /** The largest tile score of a normal frame its class's threshold stands for, in the tile model's units. */
  readonly frameThreshold: number;
  /** The mode its tiles are scored in: the tile model's own. */
  readonly mode: ScoringMode;
  /** The tiles join only the heatmap: the frame's score and verdict are the whole frame's. */
  readonly mapOnly: boolean;
}

export interface ModelInfo {
  readonly version: string;
  readonly backbone: string;
  readonly featureShape: readonly [number, number, number];
  readonly coresetSize: number;
  readonly mode: ScoringMode;
  readonly threshold: number;
  /** Each class's own threshold (threshold.perClass), served to the frames judged as that class; other frames get `threshold`. */
  readonly classThresholds?: Readonly<Record<string, number>>;
  /** For the classes whose own threshold was calibrated on bank images scored with their rows left out too (too few held-out normals): how many. */
  readonly classLeftOutImages?: Readonly<Record<string, number>>;
  /** The classes a frame can be read or judged as (the memory bank's row classes); empty when the bank records none or the mode does not search it. */
  readonly classes: readonly string[];
  /** The classes whose frames are also scored in tiles (model/tiling.ts), by class; absent: none. */
  readonly tiledClasses?: Readonly<Record<string, TiledClassInfo>>;
  /** Per class, the classes that look alike to the model (its class means confuse their held-out normals); absent: none. */
  readonly alikeClasses?: Readonly<Record<string, readonly string[]>>;
  /** How the threshold was chosen (ThresholdRule) and that rule in words. */
  readonly thresholdRule: string;
  readonly thresholdMethod: string;
  readonly executionProvider: string;
  readonly inputSize: number;
  readonly tau?: number;
  readonly k?: number;
  readonly deltaT?: number;
  readonly steps?: number;
  /** The detail bank's weight W, when it is used (W > 0). */
  readonly detailWeight?: number;
  /** The detail bank's W per class, when tuning chose one per class (a frame gets its class's; others `detailWeight`). */
  readonly detailClassWeights?: Readonly<Record<string, number>>;
  /** The detail bank's W for the image score, for the classes where it differs from detailClassWeights (which then sets only the heatmap's). */
  readonly detailImageClassWeights?: Readonly<Record<string, number>>;
  /**
   * The context bank, when any frame can get a context weight: λ, the W for a frame no class speaks for, the W per class
   * it holds rows of (the heatmap's, and the image score's unless imageClassWeights names the class), and the image
   * score's W for the classes where it differs.
   */
  readonly context?: { readonly lambda: number; readonly weight: number; readonly classWeights: Readonly<Record<string, number>>; readonly imageClassWeights?: Readonly<Record<string, number>> };
  /** The classes whose maps get the edge correction (model/scoring/edge-profile.ts); absent: none. */
  readonly edgeCorrectedClasses?: readonly string[];
  /** The classes whose maps and scores get the size correction (model/scoring/size-trend.ts); absent: none. */
  readonly sizeCorrectedClasses?: readonly string[];
  /** The classes whose image scores are standardized by their position profile (scoring/position-profile.ts). */
  readonly profiledClasses?: readonly string[];
  /** A frame whose look ratio is above this is NG as like none of the model's classes; absent when the model has no class reaches, or the gate is off. */
  readonly unlikeMargin?: number;
  /** With unlikeMargin: the classes with a reach, whose frames the look gate measures (a class with too few normals has none). */
  readonly lookGatedClasses?: readonly string[];
}

/** What the server needs from a loaded model. */
export interface Detector {
  readonly info: ModelInfo;
  detect(frame: FrameInput, options?: DetectOptions): Promise<Detection>;
  close(): Promise<void>;
}
