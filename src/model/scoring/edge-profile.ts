/**
 * The edge correction of the anomaly map: a class's normal score as a
 * function of the distance to the frame's edge, subtracted from its maps.
 *
 * Why: a normal frame's map is not flat near its edge. Blurring the map
 * mixes the letterbox border's low scores into the frame's outer band, and
 * the cells whose receptive field reaches the border (or the input's zero
 * padding) see an edge no interior cell sees: on the realistic suite (lafite
 * mode) the held-out normals of the letterboxed textures and tiles score
 * 6–12 % more 2–3 cells in from the frame's edge than in its middle (and up
 * to 5 % less on the edge itself), those of the square 1024-px sheet 11 %
 * more on the edge (the input's zero padding). A defect in
 * that band is ranked against the wrong normals, which costs pixel AUROC
 * and AUPRO most where frames are small or narrow (the tiles of many sizes,
 * the real suite's weakest class at pixel level). The profile is measured
 * per class on its held-out normals, over pixels at the same distance from
 * their own frame's edge, so it holds for frames of any size in the class.
 *
 * Objects are different: their frame's edge is plain ground and their middle
 * the part, so the profile there is content, and removing it costs a
 * little. Which classes get the correction is chosen on the
 * pseudo-validation set (pipeline/tune/edge-correction.ts). The image score
 * is computed before the correction: the map an operator sees and the
 * pixel metrics change, the verdicts do not.
 */
import { perPlacement, type Placement } from "../../image/geometry.js";
import type { FeatureMap, ScoringMode } from "../types.js";
import { invalidInput } from "../../util/errors.js";

/** How far in (anomaly-map pixels, S = 224) a distance is told apart; everything deeper is the middle. About four cells of the 28-cell grid. */
export const EDGE_REACH = 32;

/** The served edge correction (manifest scoring.edges): the mode it was measured in and each corrected class's profile. */
export interface EdgeProfiles {
  readonly mode: ScoringMode;
  readonly reach: number;
  /** Per class: the correction to subtract at each distance 0..reach (profile − its middle), in map units. */
  readonly classes: Readonly<Record<string, readonly number[]>>;
}

/** A class's pseudo-validation pixel figures (0–1; null: undefined there, e.g. no anomaly with a mask). */
export interface PixelFigures {
  readonly pixel_auroc: number | null;
  readonly aupro: number | null;
}

/** What tuning recorded (manifest tuning.edges, pipeline/tune/edge-correction.ts): each class's figures without and with its correction, and whether it kept it. */
export interface EdgeTuningRecord {
  readonly mode: ScoringMode;
  readonly reach: number;
  readonly margin: number;
  readonly classes: Readonly<Record<string, { readonly base: PixelFigures; readonly corrected: PixelFigures; readonly chosen: boolean }>>;
}

/**
 * Each pixel's distance (in S-map pixels) to the nearest edge of the frame's
 * placement, capped at `reach`; −1 outside the frame (the letterbox border).
 */
export function edgeDistances(place: Placement, size: number, reach: number = EDGE_REACH): Int16Array {
  if (!(Number.isInteger(reach) && reach >= 0)) throw invalidInput(`edge reach ${reach} must be a non-negative integer`);
  const { x, y, w, h } = place;
  if (!(x >= 0 && y >= 0 && w >= 1 && h >= 1 && x + w <= size && y + h <= size)) throw invalidInput(`placement ${w}×${h} at (${x}, ${y}) is not inside the ${size}×${size} map`);
  const d = new Int16Array(size * size).fill(-1);
  for (let r = y; r < y + h; r++) {
    const dy = Math.min(r - y, y + h - 1 - r);
    for (let col = x; col < x + w; col++) d[r * size + col] = Math.min(reach, dy, col - x, x + w - 1 - col);
  }
  return d;
}

/**
 * A map's edge distances (its FeatureMap.place; none: the whole square), computed once per frame placement: a
 * class's or a line's frames come in a few sizes. At most `limit` placements are kept.
 */
export function edgeDistanceCache(size: number, reach: number, limit = 64): (x: Pick<FeatureMap, "place">) => Int16Array {
  const whole = { x: 0, y: 0, w: size, h: size };
  const of = perPlacement((p) => edgeDistances(p, size, reach), limit);
  return ({ place = whole }) => of(place);
}

/** Sums of a class's normal map values per distance, for its profile (and a leave-one-out profile: `without`). */
export class EdgeProfileSums {
  readonly sum: Float64Array;
  readonly count: Float64Array;

  constructor(readonly reach: number = EDGE_REACH) {
    this.sum = new Float64Array(reach + 1);
    this.count = new Float64Array(reach + 1);
  }

  add(map: Float32Array, dist: Int16Array, sign: 1 | -1 = 1): void {
    if (map.length !== dist.length) throw invalidInput(`edge profile: a map of ${map.length} pixels and ${dist.length} distances`);
    for (let i = 0; i < map.length; i++) {
      const d = dist[i]!;
      if (d < 0) continue;
      this.sum[d]! += sign * map[i]!;
      this.count[d]! += sign;
    }
  }

  /** The sums less one map's (for scoring that map against a profile it did not shape). */
  without(map: Float32Array, dist: Int16Array): EdgeProfileSums {
    const out = new EdgeProfileSums(this.reach);
    out.sum.set(this.sum);
    out.count.set(this.count);
    out.add(map, dist, -1);
    return out;
  }

  /**
   * The correction per distance: the mean normal score there less the mean at
   * the deepest distance measured (the frame's middle, or as deep as the
   * class's frames go); 0 where no pixel was measured. Undefined without any.
   */
  correction(): number[] | undefined {
    const mean = Array.from(this.sum, (s, d) => (this.count[d]! > 0.5 ? s / this.count[d]! : undefined));
    let deepest = -1;
    mean.forEach((m, d) => {
      if (m !== undefined) deepest = d;
    });
    if (deepest < 0) return undefined;
    const middle = mean[deepest]!;
    return mean.map((m) => (m === undefined ? 0 : m - middle));
  }
}

/** The map with the correction at each pixel's distance subtracted, clamped at 0 (scores are distances); pixels outside the frame unchanged. */
export function correctEdges(map: Float32Array, dist: Int16Array, correction: readonly number[]): Float32Array {
  if (map.length !== dist.length) throw invalidInput(`edge correction: a map of ${map.length} pixels and ${dist.length} distances`);
  const out = new Float32Array(map.length);
  for (let i = 0; i < map.length; i++) {
    const d = dist[i]!;
    out[i] = d < 0 ? map[i]! : Math.max(0, map[i]! - (correction[Math.min(d, correction.length - 1)] ?? 0));
  }
  return out;
}
