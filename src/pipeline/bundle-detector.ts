/**
 * A Detector over a loaded bundle: the whole path of one frame, top to bottom:
 * decode → tiles (large frames only) → resize each to S×S → backbone →
 * standardize → score (knn | lafite | no-edit) → anomaly map → verdict.
 * Frames are processed one at a time in arrival order: on a 2-core box
 * concurrent ORT runs only fight over cores.
 */
import { decodeFrame, type DecodeLimits, DEFAULT_LIMITS, type RgbImage } from "../image/decode.js";
import { cropToPlacement, placement, type Aspect, type Rect } from "../image/geometry.js";
import { standardizeInPlace, type FeatureStats } from "../model/feature-stats.js";
import { resizeBilinear } from "../model/scoring/anomaly-map.js";
import type { BackboneRunner } from "../model/backbone-runner.js";
import type { FrameScorer } from "./frame-scorer.js";
import { frameScore } from "../model/scoring/anomaly-map.js";
import type { Detection, DetectOptions, Detector, FeatureMap, FrameInput, ModelInfo } from "./types.js";
import { invalidInput } from "../util/errors.js";

/** One tile's S×S anomaly map, and where the tile lies in the frame. */
export interface ScoredTile {
  readonly tile: Rect;
  readonly map: Float32Array;
}

export interface ScoredImage {
  readonly image: RgbImage;
  /** One per tile; a single one, the whole frame, unless the bundle tiles frames of this size. */
  readonly tiles: readonly ScoredTile[];
  readonly score: number;
  readonly timings: Detection["timings"];
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
  ) {}

  /** Runs jobs strictly one after another, whatever their callers. */
  private serialize<T>(job: () => Promise<T>): Promise<T> {
    const run = this.tail.then(job, job);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** How frames are fitted into the backbone's input, for mapping scores back (mapToFrame). */
  get aspect(): Aspect {
    return this.backbone.aspect;
  }

  async scoreImage(image: RgbImage, decodeMs = 0): Promise<ScoredImage> {
    return this.serialize(async () => {
      const t0 = performance.now();
      const views = await this.backbone.views(image);
      const maps = await this.backbone.runInputs(views.map((v) => v.input));
      for (const x of maps) standardizeInPlace(x, this.stats);
      const backboneMs = performance.now() - t0;
      const tiles: ScoredTile[] = [];
      const scores: number[] = [];
      const timings = { edit: 0, diffusion: 0, score: 0 };
      for (const [i, x] of maps.entries()) {
        const scored = await this.scorer.score(x);
        tiles.push({ tile: views[i]!.tile, map: scored.map });
        scores.push(scored.score);
        for (const k of ["edit", "diffusion", "score"] as const) timings[k] += scored.timings[k];
      }
      return { image, tiles, score: frameScore(scores), timings: { decode: decodeMs, backbone: backboneMs, ...timings } };
    });
  }

  async detect(frame: FrameInput, options: DetectOptions = {}): Promise<Detection> {
    const t0 = performance.now();
    const image = await decodeFrame(frame, this.limits);
    const scored = await this.scoreImage(image, performance.now() - t0);
    const threshold = options.threshold ?? this.info.threshold;
    if (!Number.isFinite(threshold)) throw invalidInput(`threshold override ${threshold} is not a finite number`);
    let frameMap: Float32Array | undefined;
    return {
      score: scored.score,
      threshold,
      isAnomalous: scored.score > threshold,
      width: image.width,
      height: image.height,
      frameMap: () => (frameMap ??= this.frameMapOf(scored)),
      timings: scored.timings,
    };
  }

  /** A scored image's anomaly map at width×height (default: the frame's own size), its tiles' maps put together. */
  frameMapOf(scored: ScoredImage, width = scored.image.width, height = scored.image.height): Float32Array {
    return tiledMapToFrame(scored.tiles, this.info.inputSize, scored.image, { width, height }, this.aspect);
  }

  async close(): Promise<void> {
    await this.tail;
    await this.onClose();
  }
}

/** The S×S anomaly map brought back to the original frame size: the frame's part of it (geometry.ts), resized bilinearly. */
export function mapToFrame(map: Float32Array, size: number, width: number, height: number, aspect: Aspect = "stretch"): Float32Array {
  return tiledMapToFrame([{ tile: { x: 0, y: 0, w: width, h: height }, map }], size, { width, height }, { width, height }, aspect);
}

/**
 * A frame's anomaly map at out.width × out.height from its tiles' S×S maps:
 * each tile's part of its map (its placement, geometry.ts) resized onto the
 * tile's rectangle, scaled from the frame to the output.
 */
export function tiledMapToFrame(tiles: readonly ScoredTile[], size: number, frame: { readonly width: number; readonly height: number }, out: { readonly width: number; readonly height: number }, aspect: Aspect): Float32Array {
  if (tiles.length === 1 && out.width === size && out.height === size) {
    // One tile that fills the input and an S×S output: the map is already the answer.
    const p = placement(frame.width, frame.height, size, aspect);
    if (p.w === size && p.h === size) return tiles[0]!.map;
  }
  const result = new Float32Array(out.width * out.height);
  const sx = out.width / frame.width;
  const sy = out.height / frame.height;
  for (const { tile, map } of tiles) {
    const x0 = Math.round(tile.x * sx);
    const y0 = Math.round(tile.y * sy);
    const w = Math.round((tile.x + tile.w) * sx) - x0;
    const h = Math.round((tile.y + tile.h) * sy) - y0;
    if (w <= 0 || h <= 0) continue;
    const p = placement(tile.w, tile.h, size, aspect);
    const piece = resizeBilinear(cropToPlacement(map, size, p), p.w, p.h, w, h);
    for (let y = 0; y < h; y++) result.set(piece.subarray(y * w, (y + 1) * w), (y0 + y) * out.width + x0);
  }
  return result;
}
