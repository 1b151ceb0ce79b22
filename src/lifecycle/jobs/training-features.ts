/**
 * The full standardized training features of a bundle's data set, for long
 * U-Net training (`lafite train --data DIR`). The replay sample a bundle
 * carries is capped by diffusion.replayMB (16 MB holds ~89 maps of
 * 120×28×28): enough to rehearse the original normals during a short
 * retrain, far too few to train a unified model for hours without
 * overfitting it. With the data set at hand, training reads what fit
 * trained on: every train/good image of the bundle's classes except fit's
 * held-out files (those belong to the pseudo-validation set), at most the
 * preset's diffusion.maxDataMB of them (a seeded subset, picked before the
 * backbone runs so a huge folder costs no more than the cap).
 */
import { relative, sep } from "node:path";
import type { BundleManifest } from "../../model/bundle.js";
import { pickReplay } from "../../model/diffusion/replay.js";
import { trainingSetSize } from "../../model/diffusion/training-plan.js";
import { scanDataset } from "../../dataset/mvtec-layout.js";
import { bankImagesOf } from "../../image/pseudo/holdout.js";
import { parseTileRef } from "../../image/tiles.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { Progress, type ProgressSink } from "../../util/progress.js";
import type { ActiveModel } from "./active-model.js";
import { featuresOfFiles } from "./frame-features.js";
import { bundlePreset } from "./fine-tune-unet.js";

export interface TrainingFiles {
  /** Absolute paths, in data-set order. */
  readonly files: readonly string[];
  /** Train/good images of the bundle's classes, before the held-out files and the cap were taken away. */
  readonly listed: number;
  readonly heldOut: number;
  /** Left out by the maxDataMB cap. */
  readonly capped: number;
  /** The tile grid k when the images are tiles (k×k of each train/good image: a tile bundle's). */
  readonly tiles?: number;
}

/**
 * Which files long training reads: the bundle's classes' train/good images, minus fit's held-out ones, capped. A
 * tile bundle's class (its held-out images tiles) reads its images' tiles (tile references, image/tiles.ts), as fit
 * trained it.
 */
export async function trainingFilesOf(m: BundleManifest, data: string): Promise<TrainingFiles> {
  const classNames = Object.keys(m.provenance.classes);
  const present = await scanDataset(data);
  const found = new Set(present.map((c) => c.name));
  if (!classNames.some((n) => found.has(n))) {
    throw new LafiteError(ErrorCode.BAD_DATASET, `${data} has none of the bundle's classes (${classNames.join(", ")}); pass the data set the bundle was fitted on`);
  }
  const wanted = new Set(classNames);
  const held = new Set((m.provenance.holdoutFiles ?? []).map((f) => f.split(/[\\/]/).join(sep)));
  const listed = present.filter((c) => wanted.has(c.name)).flatMap((c) => bankImagesOf(m.provenance.holdoutFiles ?? [], c.name, c.train));
  const kept = listed.filter((f) => !held.has(relative(data, f)));
  const { c, h, w } = m.features;
  const cap = trainingSetSize({ maxDataMB: m.config.diffusion.maxDataMB ?? bundlePreset(m).maxDataMB }, kept.length, c * h * w * Float32Array.BYTES_PER_ELEMENT);
  const files = pickReplay(kept.length, cap, m.config.seed).map((i) => kept[i]!);
  const tiles = listed.length > 0 ? parseTileRef(listed[0]!)?.k : undefined;
  return { files, listed: listed.length, heldOut: listed.length - kept.length, capped: kept.length - files.length, ...(tiles !== undefined ? { tiles } : {}) };
}

export interface TrainingFeatures extends TrainingFiles {
  readonly maps: Float32Array[];
  /** Files that could not be read or decoded, with why. */
  readonly skipped: readonly { readonly path: string; readonly reason: string }[];
}

/** The standardized feature maps of trainingFilesOf's files, with progress and cancellation between batches. */
export async function trainingFeaturesOf(
  model: ActiveModel,
  data: string,
  options: { signal?: AbortSignal; progressSink?: ProgressSink } = {},
): Promise<TrainingFeatures> {
  const picked = await trainingFilesOf(model.manifest, data);
  if (picked.files.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `${data} has no training images of the bundle's classes outside fit's held-out set`);
  const progress = new Progress("training features", picked.files.length, { unit: "images", ...(options.progressSink ? { sink: options.progressSink } : {}) });
  let done = 0;
  const features = await featuresOfFiles(model, picked.files.map((path) => ({ path })), {
    ...(options.signal ? { signal: options.signal } : {}),
    what: "training feature extraction",
    onProgress: (n) => {
      progress.tick(n - done);
      done = n;
    },
  });
  const maps: Float32Array[] = [];
  const skipped: { path: string; reason: string }[] = [];
  features.forEach((f, i) => (f.ok ? maps.push(f.map.data) : skipped.push({ path: picked.files[i]!, reason: f.reason })));
  if (maps.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `none of the ${picked.files.length} training images in ${data} could be read (first: ${skipped[0]?.reason})`);
  return { ...picked, maps, skipped };
}
