/**
 * A class's normal score at each position of the anomaly map: the mean and
 * spread of its held-out normals' maps, position by position, and the map
 * standardized by them before the image score.
 *
 * Why: a normal frame's map is not flat. An object's contours, a plate's
 * rims, the band along a letterboxed frame's edge score higher, and vary
 * more, than its plain middle, and they do so at the same place in every
 * frame of a class that is placed the same way. The image score takes the
 * map's highest region, so those places set a normal frame's score, and a
 * small defect elsewhere has to outscore them. Measured on the realistic
 * suite with kit (`npm run bench:profile`, lafite fits at seeds 0 and 1, the
 * six classes with at least 10 held-out normals): image AUROC of the nut
 * with small spots 86.3 → 91.0 and 85.8 → 93.3, the dyed cloth 72.8 → 78.2
 * and 71.7 → 76.0, the logical classes at 100 either way; but the tiles of
 * many sizes 91.1 → 93.3 and 94.2 → 90.6, the veneer 92.8 → 94.3 and
 * 93.2 → 92.3, so it is a per-class choice. Defects caught at the 0.99
 * quantile of the held-out normals 115 → 126 and 117 → 127, good frames
 * flagged 9 → 8 and 5 → 2.
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

/** The fewest normal maps a profile is built from: with fewer, a position's spread is noise. */
export const MIN_PROFILE_NORMALS = 10;

export interface PositionProfile {
  /** Per map position (S×S, row-major): the normals' mean score. */
  readonly mean: Float32Array;
  /** Per position: what one unit of the standardized map is, max(σ, σ̄), σ the normals' sample standard deviation there and σ̄ its mean over the map. */
  readonly scale: Float32Array;
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
