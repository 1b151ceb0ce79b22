/**
 * The pseudo-validation set in memory (paper 3.4): for each class, its
 * normal images as the negatives ("good") and `perClass` synthesized
 * anomalies ("pseudo"), each pasting a fragment of one normal image onto
 * another of the same class (of any class with `crossClass`). The tuner
 * scores these directly; writePseudoSet puts them on disk.
 *
 * Every anomaly draws from its own stream, derived from the seed, the class
 * and its index, so sample i is the same whatever perClass is, and the same
 * seed gives the same samples.
 *
 * A logical anomaly (a `logical` share of them, where the target has
 * parts) is made from its target alone, so its source is the target; so
 * is a shade anomaly (a `shade` share of the rest: the target re-lit under
 * a mask, shade.ts) and a warp anomaly (a `warp` share of what is left: the
 * target's pixels moved near an edge, warp.ts).
 *
 * A class with a single image pastes the image onto itself from another
 * place (the shift rule keeps the fragment away from where it lands); the
 * sample says so with `selfPaste`. A class with no images is an error: a
 * set without negatives or anomalies for a class it names would silently
 * drop that class from the tuning.
 */
import type { RgbImage } from "../decode.js";
import { readImageFile } from "../read-image-file.js";
import { deriveSeed, seededRng } from "../synth/rng.js";
import { LafiteError, ErrorCode, invalidInput } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import { synthesizeAnomaly, synthesizeLogicalAnomaly, type AnomalyInfo, type AnomalyOptions } from "./anomaly.js";
import { fitSource } from "./fit-source.js";
import { synthesizeSwap, type SwapInfo } from "./swap.js";
import { findParts } from "./logical.js";
import { synthesizeShadeAnomaly } from "./shade.js";
import { synthesizeWarpAnomaly } from "./warp.js";

export interface PseudoClass {
  readonly name: string;
  /** Paths of normal images. */
  readonly images: readonly string[];
}

export interface PseudoOptions {
  readonly seed: number;
  /** Synthesized anomalies per class. */
  readonly perClass: number;
  /** Draw sources from every class, not only the target's. */
  readonly crossClass?: boolean;
  readonly signal?: AbortSignal;
  readonly anomaly?: AnomalyOptions;
  /**
   * Share of the anomalies made logical (a part of the target removed or
   * added, logical.ts) instead of pasted, 0–1 (default 0). Each anomaly
   * decides from its own stream, apart from the paste's, so a set with a
   * share differs from one without only where a logical anomaly was made:
   * a target without parts (a texture) keeps the very anomaly it had.
   */
  readonly logical?: number;
  /**
   * Share of the anomalies that are not logical made shade anomalies (the
   * target's own pixels re-lit under a mask, shade.ts) instead of pasted,
   * 0–1 (default 0). Drawn from its own stream, as the logical share: a set
   * with a share differs from one without only where a shade anomaly was made.
   */
  readonly shade?: number;
  /**
   * Share of the anomalies that are neither logical nor shaded made warp
   * anomalies (the target's own pixels moved near one of its edges: a dent
   * or a turned stretch of rim, warp.ts) instead of pasted, 0–1 (default 0).
   * Drawn from its own stream, as the shade share; a frame with nothing a
   * warp can change (flat) keeps its pasted anomaly.
   */
  readonly warp?: number;
}

/** What a set is made of, without the cancellation signal: what a model config's tuning section describes. */
export type PseudoRecipe = Omit<PseudoOptions, "signal">;

export interface PseudoSample {
  readonly cls: string;
  readonly kind: "good" | "pseudo";
  /** File stem, unique within (cls, kind): "000", "001", … */
  readonly name: string;
  /** Shared with a decode cache for good samples: read it, do not write into it. */
  readonly image: RgbImage;
  /** Pseudo samples: width*height values, 0 or 1. */
  readonly mask?: Uint8Array;
  /** The normal image this sample is (good) or was pasted onto (pseudo). */
  readonly target: string;
  /** Pseudo samples: where the fragment came from. */
  readonly source?: string;
  readonly selfPaste?: boolean;
  readonly info?: AnomalyInfo;
  /** A swapped part (swapSamples): where the source frame's square went. */
  readonly swap?: SwapInfo;
}

/** Upper bound on perClass, so a typo cannot fill a disk or hang a tuner. */
export const MAX_PER_CLASS = 10_000;

export function stemOf(index: number): string {
  return String(index).padStart(3, "0");
}

export function checkPseudoOptions(options: PseudoOptions): void {
  const { seed, perClass } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidInput(`seed must be an integer from 0 to 4294967295, got ${seed}`);
  if (!Number.isInteger(perClass) || perClass < 0 || perClass > MAX_PER_CLASS) {
    throw invalidInput(`per-class count must be an integer from 0 to ${MAX_PER_CLASS}, got ${perClass}`);
  }
  const logical = options.logical ?? 0;
  if (!(logical >= 0 && logical <= 1)) throw invalidInput(`the logical share must be a number from 0 to 1, got ${logical}`);
  const shade = options.shade ?? 0;
  if (!(shade >= 0 && shade <= 1)) throw invalidInput(`the shade share must be a number from 0 to 1, got ${shade}`);
  const warp = options.warp ?? 0;
  if (!(warp >= 0 && warp <= 1)) throw invalidInput(`the warp share must be a number from 0 to 1, got ${warp}`);
}

/** Decoded images, keeping the last few: targets and sources repeat, but a whole class may not fit in memory. */
class DecodeCache {
  private readonly entries = new Map<string, RgbImage>();
  constructor(private readonly capacity: number) {}

  async get(path: string): Promise<RgbImage> {
    const hit = this.entries.get(path);
    if (hit) {
      this.entries.delete(path);
      this.entries.set(path, hit);
      return hit;
    }
    let image: RgbImage;
    try {
      ({ image } = await readImageFile(path));
    } catch (err) {
      throw new LafiteError(ErrorCode.BAD_DATASET, `cannot read normal image ${path}: ${(err as Error).message}`, { cause: err });
    }
    this.entries.set(path, image);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return image;
  }
}

/** Index into a pool of `n` that is not `exclude` (when n > 1), uniformly. */
function drawOther(next: () => number, n: number, exclude: number): number {
  if (n <= 1 || exclude < 0) return Math.floor(next() * n);
  const k = Math.floor(next() * (n - 1));
  return k >= exclude ? k + 1 : k;
}

export async function* pseudoSamples(classes: readonly PseudoClass[], options: PseudoOptions): AsyncGenerator<PseudoSample> {
  checkPseudoOptions(options);
  const { seed, perClass, signal } = options;
  const logicalShare = options.logical ?? 0;
  const shadeShare = options.shade ?? 0;
  const warpShare = options.warp ?? 0;
  for (const c of classes) {
    if (c.images.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `class ${c.name} has no normal images to build a pseudo-validation set from`);
  }
  const pool = classes.flatMap((c) => c.images);
  const cache = new DecodeCache(16);
  for (const c of classes) {
    for (let i = 0; i < c.images.length; i++) {
      throwIfCancelled(signal, "pseudo-validation set");
      const path = c.images[i]!;
      yield { cls: c.name, kind: "good", name: stemOf(i), image: await cache.get(path), target: path };
    }
    const sources = options.crossClass ? pool : c.images;
    for (let i = 0; i < perClass; i++) {
      throwIfCancelled(signal, "pseudo-validation set");
      const rng = seededRng(deriveSeed(seed, "pseudo", c.name, i));
      const t = Math.floor(rng.next() * c.images.length);
      const targetPath = c.images[t]!;
      const s = drawOther(rng.next, sources.length, sources.indexOf(targetPath));
      const sourcePath = sources[s]!;
      const target = await cache.get(targetPath);
      const source = await fitSource(await cache.get(sourcePath), target.width, target.height);
      const logicalRng = seededRng(deriveSeed(seed, "logical", c.name, i));
      const made = logicalShare > 0 && logicalRng.chance(logicalShare) ? synthesizeLogicalAnomaly(logicalRng, target) : undefined;
      const shadeRng = seededRng(deriveSeed(seed, "shade", c.name, i));
      const shaded = !made && shadeShare > 0 && shadeRng.chance(shadeShare) ? synthesizeShadeAnomaly(shadeRng, target, options.anomaly?.masks) : undefined;
      const warpRng = seededRng(deriveSeed(seed, "warp", c.name, i));
      const warped = !made && !shaded && warpShare > 0 && warpRng.chance(warpShare) ? synthesizeWarpAnomaly(warpRng, target) : undefined;
      const anomaly = made ?? shaded ?? warped ?? synthesizeAnomaly(rng, target, source, options.anomaly);
      // Logical, shade and warp anomalies are made from the target alone: the source drawn above goes unused (it is still drawn, to keep the streams).
      const ownPixels = anomaly.info.logical || anomaly.info.shade || anomaly.info.warp;
      const from = ownPixels ? targetPath : sourcePath;
      yield {
        cls: c.name,
        kind: "pseudo",
        name: stemOf(i),
        image: anomaly.image,
        mask: anomaly.mask.data,
        target: targetPath,
        source: from,
        ...(!ownPixels && sourcePath === targetPath ? { selfPaste: true } : {}),
        info: anomaly.info,
      };
    }
  }
}

/**
 * Up to `perClass` warped edges per class (warp.ts): a held-out normal with
 * its own pixels moved near one of its strong edges, a dent or a turned
 * stretch of rim. What the detail bank's weight per class is also chosen
 * on (pipeline/tune/detail-weight.ts), beside the pseudo-validation set: its
 * pasted fragments are blobs the coarse stages see best, while real chips,
 * bent rims and wrong angles are small changes of shape. Each sample draws
 * from its own stream, so sample i is the same whatever perClass is; a frame
 * a warp cannot change (flat) gives none. Named "w000", "w001", … by their
 * index, apart from pseudoSamples' and swapSamples' names.
 */
export async function* warpSamples(classes: readonly PseudoClass[], options: Pick<PseudoOptions, "seed" | "perClass" | "signal">): AsyncGenerator<PseudoSample> {
  checkPseudoOptions(options);
  const cache = new DecodeCache(16);
  for (const c of classes) {
    for (let i = 0; i < options.perClass && c.images.length > 0; i++) {
      throwIfCancelled(options.signal, "warped edges");
      const rng = seededRng(deriveSeed(options.seed, "warped-edge", c.name, i));
      const targetPath = c.images[Math.floor(rng.next() * c.images.length)]!;
      const made = synthesizeWarpAnomaly(rng, await cache.get(targetPath));
      if (!made) continue;
      yield { cls: c.name, kind: "pseudo", name: `w${stemOf(i)}`, image: made.image, mask: made.mask.data, target: targetPath, source: targetPath, info: made.info };
    }
  }
}

/** Sources tried for a swap before the sample is given up: the class's frames may be of many sizes, or their parts alike. */
const SWAP_SOURCE_TRIES = 4;

/**
 * Up to `perClass` swapped parts per class (swap.ts): a part of one normal
 * image replaced by the same place of another of the class and the same
 * size. Each sample draws from its own stream, so sample i is the same
 * whatever perClass is; a sample for which no source of the target's size,
 * or no visible swap, is found within a few tries is left out, so a class of
 * textures or of frames of many sizes gets none. Named "s000", "s001", … by
 * their index, so they never collide with pseudoSamples' names.
 */
export async function* swapSamples(classes: readonly PseudoClass[], options: Pick<PseudoOptions, "seed" | "perClass" | "signal"> & { readonly onTried?: () => void }): AsyncGenerator<PseudoSample> {
  checkPseudoOptions(options);
  const cache = new DecodeCache(16);
  for (const c of classes) {
    if (c.images.length < 2) {
      for (let i = 0; i < options.perClass; i++) options.onTried?.();
      continue;
    }
    for (let i = 0; i < options.perClass; i++) {
      // Counted before the sample is made or given up, so progress reaches its total either way.
      options.onTried?.();
      throwIfCancelled(options.signal, "swapped parts");
      const rng = seededRng(deriveSeed(options.seed, "swap", c.name, i));
      const t = Math.floor(rng.next() * c.images.length);
      const target = await cache.get(c.images[t]!);
      // The target's parts, looked for once and only when a source of its size turns up (a texture has none: no source helps).
      let parts: ReturnType<typeof findParts> | "unsought" = "unsought";
      for (let k = 0; k < SWAP_SOURCE_TRIES; k++) {
        const sourcePath = c.images[drawOther(rng.next, c.images.length, t)]!;
        const source = await cache.get(sourcePath);
        if (source.width !== target.width || source.height !== target.height) continue;
        if (parts === "unsought") parts = findParts(target);
        if (!parts) break;
        const made = synthesizeSwap(rng, target, source, parts);
        if (!made) continue;
        yield { cls: c.name, kind: "pseudo", name: `s${stemOf(i)}`, image: made.image, mask: made.mask.data, target: c.images[t]!, source: sourcePath, swap: made.info };
        break;
      }
    }
  }
}
