/**
 * Model bundles: a versioned folder holding manifest.json plus the files it
 * names (backbone ONNX, coreset vectors and FAISS index, later the denoiser).
 * Written atomically — every file to a temporary sibling folder, fsynced,
 * manifest last, then one rename — and verified on load (format version and
 * the SHA-256 of every file), so a damaged bundle is refused with a clear
 * error instead of crashing native code.
 */
import type { Aspect, Border } from "../image/geometry.js";
import type { ImageScoreRule } from "./scoring/anomaly-map.js";
import type { ChannelRange, DetailScoring } from "./scoring/detail-bank.js";
import type { ContextScoring } from "./scoring/context-bank.js";
import type { EdgeProfiles, EdgeTuningRecord } from "./scoring/edge-profile.js";
import type { SizeTrends, SizeTuningRecord } from "./scoring/size-trend.js";
import type { PositionProfiles, ProfileTuningRecord } from "./scoring/position-profile.js";
import type { ContextBankRows } from "./memory/context-coreset.js";
import type { RowClasses } from "./memory/row-classes.js";
import { classMeansProblem, type ClassMeans } from "./memory/class-means.js";
import type { Tiling } from "./tiling.js";
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, readdir } from "node:fs/promises";
import { fsyncDir, writeFileSynced } from "../util/atomic-file.js";
import { basename, dirname, join } from "node:path";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { ModelConfig } from "./model-config.js";
import type { ScoringMode } from "./types.js";
import type { ThresholdInfo } from "./scoring/threshold.js";

export type { ThresholdInfo } from "./scoring/threshold.js";

export const BUNDLE_FORMAT = "lafited-bundle";
export const BUNDLE_FORMAT_VERSION = 1;

/** One point of a pseudo-validation sweep (`lafite tune`). Metrics are 0–1. */
export interface TuningPoint {
  readonly tau?: number;
  readonly deltaT?: number;
  readonly k?: number;
  /** The image-score rule of the point (K sweep; absent in records from before the choice: pool). */
  readonly imageScore?: ImageScoreRule;
  readonly image_auroc: number | null;
  readonly pixel_auroc: number | null;
}

/** A point of a per-class bank-weight sweep: its W and the class's figures there. */
export type ClassSweepPoint = TuningPoint & { readonly weight: number; readonly aupro: number | null };

/**
 * What `lafite tune` chose and why (paper 3.4 and 4.5): τ swept with editing
 * off (no-edit mode), then K with editing on (lafite mode), both scored on a
 * pseudo-validation set synthesized from the held-out normals with `seed`.
 */
export interface TuningRecord {
  readonly seed: number;
  /** Synthesized anomalous images per class. */
  readonly perClass: number;
  /** Share of the anomalies blended in seamlessly (absent: none, all hard-pasted). */
  readonly seamless?: number;
  /** Share of the anomalies that are logical, a part removed or added (absent: none). */
  readonly logical?: number;
  /** Share of the other anomalies shaded in place, the target re-lit under a mask (absent: none). */
  readonly shade?: number;
  /** Share of those left warped in place, the target's pixels moved near an edge (absent: none). */
  readonly warp?: number;
  readonly images: { readonly anomalous: number; readonly good: number };
  /** DDIM steps per τ in the τ sweep (Δt = τ / steps). */
  readonly steps?: number;
  /** The τ sweep (empty for a bundle without a diffusion model). */
  readonly tau: { readonly mode: ScoringMode; readonly curve: readonly TuningPoint[]; readonly chosen: { readonly tau: number; readonly deltaT: number } };
  readonly k: { readonly mode: ScoringMode; readonly curve: readonly TuningPoint[]; readonly chosen: number };
  /** The detail-bank weight sweep at the chosen τ, K and rule, in the served mode (absent: not swept). */
  readonly detail?: {
    readonly mode: ScoringMode;
    readonly stages: readonly string[];
    readonly curve: readonly (TuningPoint & { readonly weight: number })[];
    readonly chosen: number;
    /**
     * Each class's own sweep over its samples (tuning.detailPerClass), with AUPRO, and its chosen W (scoring.detail.classWeights).
     * With enough warped edges (tuning.warps, minWarps) the curve is the mean of `set` (its pseudo-validation samples) and
     * `warps` (its normals against its warped edges), both kept; `chosen` is then the heatmap's W and `imageChosen` the image
     * score's, chosen on `set` alone (scoring.detail.imageClassWeights where they differ).
     */
    readonly classes?: Readonly<Record<string, { readonly curve: readonly ClassSweepPoint[]; readonly chosen: number; readonly imageChosen?: number; readonly set?: readonly ClassSweepPoint[]; readonly warps?: readonly ClassSweepPoint[] }>>;
  };
  /**
   * The context bank's weight per class (scoring.context), in the served mode, after the detail bank's: each class with
   * enough swapped parts (image/pseudo/swap.ts), its normals against those (swaps_auroc) and against its other anomalies;
   * a W above 0 only when it beats W 0 on the swaps by `margin` and costs the others no more (chooseContextWeight);
   * `imageChosen`, the image score's W, guards only the others' image AUROC (chooseImageContextWeight).
   */
  readonly context?: {
    readonly mode: ScoringMode;
    readonly lambda: number;
    readonly margin: number;
    /** The most a W may cost the class's other anomalies (mean of image AUROC and AUPRO). */
    readonly tolerance: number;
    /** Swapped parts per class (classes without any are not swept: nothing in the set speaks for context there). */
    readonly swaps: Readonly<Record<string, number>>;
    /** Per class: image AUROC of its normals against its swapped parts (swaps_auroc) and the swaps' separation from them, and its other anomalies' figures, at each W. */
    readonly classes: Readonly<
      Record<
        string,
        {
          readonly curve: readonly (TuningPoint & { readonly weight: number; readonly aupro: number | null; readonly swaps_auroc: number | null; readonly swaps_separation?: number | null; readonly reached_cost?: number; readonly reached_image_cost?: number })[];
          readonly chosen: number;
          readonly imageChosen?: number;
          /** The sweep on the image score's detail blend, where some class's image score has a detail W of its own (DetailScoring.imageClassWeights): what imageChosen is chosen on. */
          readonly imageCurve?: readonly (TuningPoint & { readonly weight: number; readonly aupro: number | null; readonly swaps_auroc: number | null; readonly swaps_separation?: number | null; readonly reached_cost?: number; readonly reached_image_cost?: number })[];
          /** The other classes whose frames its W reaches (a fifth of their votes); each point's reached_cost and reached_image_cost are the most it costs one of them over W 0, held to the tolerance too. */
          readonly reached?: readonly string[];
        }
      >
    >;
  };
  /** Each class's pseudo-validation pixel AUROC and AUPRO without and with the edge correction, and whether it kept it. */
  readonly edges?: EdgeTuningRecord;
  /** Each class's held-out normals' size trend, and whether it kept it (scoring/size-trend.ts). */
  readonly sizes?: SizeTuningRecord;
  /** Which classes' image scores get their position profile (scoring/position-profile.ts), and on what figures. */
  readonly profiles?: ProfileTuningRecord;
  /** The tuned setting against the configured defaults in the K sweep's mode; the better one is served. */
  readonly final?: { readonly mode: ScoringMode; readonly tuned: TuningPoint; readonly defaults: TuningPoint; readonly kept: "tuned" | "defaults" };
  readonly seconds: number;
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly formatVersion: number;
  readonly version: string;
  readonly createdAt: string;
  readonly config: ModelConfig;
  readonly backbone: {
    readonly name: string;
    readonly file: string;
    readonly inputSize: number;
    readonly stages: readonly string[];
    /** How frames are fitted into the input (image/geometry.ts); absent (older bundles) = stretch. */
    readonly aspect?: Aspect;
    /** What fills the input around the frame (image/geometry.ts); absent (older bundles) = gray. */
    readonly border?: Border;
  };
  readonly features: {
    readonly c: number;
    readonly h: number;
    readonly w: number;
    readonly mean: readonly number[];
    readonly std: readonly number[];
  };
  readonly memory: {
    readonly coresetSize: number;
    readonly candidates: number;
    /** How candidates were drawn when there were more slices than memory.maxCandidates (absent in bundles from before: uniform). */
    readonly sampling?: "uniform" | "stratified" | "balanced";
    /** Fraction of the rows chosen within each class (absent in bundles from before: 0, one global selection). */
    readonly perClassShare?: number;
    /** Coreset rows fit took from each class's candidates (absent in bundles from before). */
    readonly classRows?: Readonly<Record<string, number>>;
    readonly indexType: "flat" | "hnsw";
    readonly indexFile: string;
    /** Raw little-endian float32 coreset rows (coresetSize × c), for the ONNX kNN hot path. */
    readonly vectorsFile: string;
    /**
     * The random projection the greedy k-center selection ran in: its seed and
     * dimension, and the d×c float32 matrix file when the features were
     * projected (absent when dim ≥ c: the selection ran on the features).
     * Incremental refreshes must measure distances in this same space.
     */
    readonly projection?: { readonly seed: number; readonly dim: number; readonly file?: string };
    /**
     * Covering radius at fit: the largest L2 distance, in the projection's
     * space, from any candidate slice to its nearest coreset row. New slices
     * farther than this are what an incremental refresh adds. When every row
     * was chosen within a class (perClassShare 1) it is the largest of the
     * classes' own radii, an upper bound on that distance.
     */
    readonly coverageRadius?: number;
    /**
     * The class of every bank row: `file` holds one little-endian int32 index
     * into `names` per row (fit's classes, then any new class tag a refresh
     * added rows for). A refresh that must drop rows keeps each class's share
     * with it (consolidate.ts). Absent in bundles from before: such a bank
     * is not consolidated, only grown up to its ceiling.
     */
    readonly rowClasses?: { readonly file: string; readonly names: readonly string[] };
    /**
     * Each class's mean of its frames' mean features, by which a frame's class is read
     * (memory/class-means.ts): fit's bank images, then the tagged frames refreshes
     * added to the bank. Absent in bundles from before: their rows' votes read a frame.
     */
    readonly classMeans?: ClassMeans;
    /**
     * The context bank's rows (scoring/context-bank.ts, memory/context-coreset.ts):
     * `file` holds size × (c + hi − lo) little-endian float32 values, each a
     * slice's features then its frame's mean of the standardized channels
     * [lo, hi) (the coarsest stage), unscaled; `classesFile` one int32 index
     * into rowClasses.names per row; chosen at `lambda`. Absent when no class
     * had swapped parts to weigh it by, and in bundles from before it.
     */
    readonly contextBank?: {
      readonly file: string;
      readonly classesFile: string;
      readonly size: number;
      readonly channels: ChannelRange;
      readonly lambda: number;
      /** The selection's covering radius (largest over its classes), in the projection of memory.projection's seed and dimension over c + hi − lo channels. */
      readonly coverageRadius: number;
      /** Its size at fit: a refresh grows it to at most (1 + memory.refreshHeadroom) times this. */
      readonly fitSize: number;
    };
  };
  readonly scoring: {
    readonly mode: ScoringMode;
    readonly k: number;
    readonly sigma: number;
    readonly pool: number;
    /** Image score rule (absent in bundles from before the choice: pool). */
    readonly imageScore?: ImageScoreRule;
    readonly top?: number;
    readonly tau?: number;
    readonly deltaT?: number;
    readonly eta?: number;
    readonly denoiserFile?: string;
    /** The detail bank (scoring/detail-bank.ts): absent in bundles from before it, or when the backbone's stage widths were unknown. */
    readonly detail?: DetailScoring;
    /** The context bank (scoring/context-bank.ts): absent in bundles from before it. */
    readonly context?: ContextScoring;
    /** The edge correction of the maps of the classes that kept it (scoring/edge-profile.ts), in its mode; absent: no class's. */
    readonly edges?: EdgeProfiles;
    /** The size correction of the classes that kept it (scoring/size-trend.ts), in its mode; absent: no class's (and in bundles from before it). */
    readonly sizes?: SizeTrends;
    /** The position profiles of the classes that kept one (scoring/position-profile.ts), in their mode; absent: no class's (and in bundles from before them). */
    readonly profiles?: PositionProfiles;
  };
  /** Threshold of the bundle's own scoring mode. */
  readonly threshold: ThresholdInfo;
  /** Thresholds of every mode the bundle supports (eval/serve with another mode). */
  readonly thresholds?: Partial<Record<ScoringMode, ThresholdInfo>>;
  readonly metrics: Record<string, unknown>;
  /** Pseudo-validation tuning, when the bundle was tuned. */
  readonly tuning?: TuningRecord;
  /**
   * Standardized training feature maps kept for rehearsal when the diffusion
   * model is fine-tuned later (src/model/diffusion/replay.ts): `count` maps of
   * c×h×w little-endian float16 values in one file, at most `maxMB`.
   */
  readonly replay?: { readonly file: string; readonly count: number; readonly dtype: "float16"; readonly maxMB: number; readonly ofMaps: number };
  /**
   * Classes also scored in tiles (model/tiling.ts): each with the bundle fitted on its tiles, whose files are this
   * bundle's. Absent: no class is (and in bundles from before served tiling).
   */
  readonly tiling?: Tiling;
  /** The bundle a lifecycle job derived this one from (absent for a fit). */
  readonly parentVersion?: string;
  /** What a lifecycle job learnt from beyond the parent: the accepted frames, by content hash. */
  readonly dataSnapshot?: {
    readonly job: "refresh" | "retrain";
    /** readAs: an untagged frame's class as the parent model read it (lifecycle/jobs/read-untagged.ts). */
    readonly accepted: readonly { readonly sha256: string; readonly classTag?: string; readonly readAs?: string; readonly use: "bank" | "train" | "holdout" | "skipped" }[];
  };
  readonly provenance: {
    readonly dataset: string;
    readonly classes: Record<string, { readonly train: number; readonly holdout: number }>;
    /** SHA-256 over "<relative path> <SHA-256 of the file>" lines of every training image, in order. */
    readonly trainListSha256: string;
    readonly skippedFiles: readonly string[];
    /** Training images held out of the bank (paths relative to `dataset`): threshold calibration and pseudo-validation use only these. */
    readonly holdoutFiles?: readonly string[];
    readonly timings: Record<string, number>;
    readonly tool: string;
  };
  /** SHA-256 of every file in the bundle except the manifest. */
  readonly files: Record<string, string>;
}

/** A version id that sorts by time and names the content: "20261130T101500Z-1a2b3c4d". */
export function newVersionId(createdAt: Date, content: Uint8Array): string {
  return `${createdAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${sha256(content).slice(0, 8)}`;
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export type BundleFiles = Record<string, Uint8Array>;

/**
 * Writes a bundle at `out`. An existing non-empty `out` is refused unless
 * `replace`, in which case it is swapped out only after the new one is complete.
 */
export async function writeBundle(out: string, manifest: Omit<BundleManifest, "files">, files: BundleFiles, replace = false): Promise<BundleManifest> {
  const existing = await stat(out).catch(() => undefined);
  if (existing && !replace) {
    const entries = existing.isDirectory() ? await readdir(out) : ["(a file)"];
    if (entries.length > 0) throw new LafiteError(ErrorCode.BAD_BUNDLE, `${out} already exists and is not empty; choose another --out or pass --force to replace it`);
  }
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(tmp);
  try {
    const hashes: Record<string, string> = {};
    for (const [name, data] of Object.entries(files)) {
      if (name === "manifest.json" || name.includes("/")) throw new Error(`invalid bundle file name '${name}'`);
      await writeFileSynced(join(tmp, name), data);
      hashes[name] = sha256(data);
    }
    const full: BundleManifest = { ...manifest, files: hashes };
    await writeFileSynced(join(tmp, "manifest.json"), `${JSON.stringify(full, null, 2)}\n`);
    await fsyncDir(tmp);
    if (existing) {
      const old = join(parent, `.${basename(out)}.old-${process.pid}-${Date.now()}`);
      await rename(out, old);
      await rename(tmp, out);
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, out);
    }
    await fsyncDir(parent);
    return full;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export interface LoadedBundle {
  readonly dir: string;
  readonly manifest: BundleManifest;
  /** Reads one verified file of the bundle. */
  file(name: string): Uint8Array;
}

const bad = (dir: string, msg: string) => new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: ${msg}`);

/** Reads and verifies a bundle: manifest format, version, and every file's hash. */
export async function readBundle(dir: string): Promise<LoadedBundle> {
  let text: string;
  try {
    text = await readFile(join(dir, "manifest.json"), "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw bad(dir, code === "ENOENT" ? "no manifest.json (not a lafited bundle, or an interrupted write)" : `cannot read manifest.json: ${(err as Error).message}`);
  }
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(text) as BundleManifest;
  } catch {
    throw bad(dir, "manifest.json is not valid JSON (damaged)");
  }
  if (manifest.format !== BUNDLE_FORMAT) throw bad(dir, `manifest format is '${String(manifest.format)}', expected '${BUNDLE_FORMAT}'`);
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) {
    throw bad(dir, `bundle format version ${manifest.formatVersion} is not supported by this lafited (supports ${BUNDLE_FORMAT_VERSION}); refit or upgrade`);
  }
  if (typeof manifest.files !== "object" || manifest.files === null) throw bad(dir, "manifest lists no files");
  const contents = new Map<string, Uint8Array>();
  for (const [name, hash] of Object.entries(manifest.files)) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, name));
    } catch {
      throw bad(dir, `file ${name} named in the manifest is missing`);
    }
    if (sha256(data) !== hash) throw bad(dir, `file ${name} is damaged (SHA-256 does not match the manifest)`);
    contents.set(name, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return {
    dir,
    manifest,
    file(name: string): Uint8Array {
      const data = contents.get(name);
      if (!data) throw bad(dir, `manifest has no file ${name}`);
      return data;
    },
  };
}

/** Every file of a bundle by name: what a bundle written from it (a copy, a candidate) starts from. */
export function filesOf(bundle: LoadedBundle): BundleFiles {
  return Object.fromEntries(Object.keys(bundle.manifest.files).map((name) => [name, bundle.file(name)]));
}

/** Float32Array ↔ little-endian bytes (the bundle's raw vector format). */
export function float32Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function int32Bytes(values: Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function bytesToInt32(bytes: Uint8Array): Int32Array {
  if (bytes.byteLength % 4 !== 0) throw new LafiteError(ErrorCode.BAD_BUNDLE, `raw int32 file of ${bytes.byteLength} bytes is not a multiple of 4`);
  return new Int32Array(bytes.slice().buffer);
}

/** The bank's row classes (manifest memory.rowClasses), checked against the bank's size; undefined for a bundle fitted before they were stored. */
export function rowClassesOf(bundle: LoadedBundle): RowClasses | undefined {
  const r = bundle.manifest.memory.rowClasses;
  if (!r) return undefined;
  const classes = bytesToInt32(bundle.file(r.file));
  if (classes.length !== bundle.manifest.memory.coresetSize) throw bad(bundle.dir, `${classes.length} row classes for a bank of ${bundle.manifest.memory.coresetSize} rows`);
  return { classes, names: r.names };
}

/** The context bank's rows (manifest memory.contextBank), checked against its size; undefined when the bundle has none. */
export function contextBankOf(bundle: LoadedBundle): ContextBankRows | undefined {
  const b = bundle.manifest.memory.contextBank;
  if (!b) return undefined;
  const c = bundle.manifest.features.c;
  const rows = bytesToFloat32(bundle.file(b.file));
  const classes = bytesToInt32(bundle.file(b.classesFile));
  const width = c + b.channels[1] - b.channels[0];
  if (rows.length !== b.size * width || classes.length !== b.size) throw bad(bundle.dir, `context bank of ${b.size} rows holds ${rows.length} values (${width} a row) and ${classes.length} classes`);
  return { rows, size: b.size, c, channels: b.channels, classes };
}

/** `{ rowClasses, classMeans, contextBank }` as far as a bundle has them: spread into the parts a scorer is opened with. */
export function rowPartsOf(bundle: LoadedBundle): { rowClasses?: RowClasses; contextBank?: ContextBankRows; classMeans?: ClassMeans } {
  const contextBank = contextBankOf(bundle);
  return { ...rowClassesPart(bundle), ...(contextBank ? { contextBank } : {}) };
}

/** `{ rowClasses, classMeans }` as far as a bundle has them, `{}` otherwise: spread into the parts a scorer is opened with. */
export function rowClassesPart(bundle: LoadedBundle): { rowClasses?: RowClasses; classMeans?: ClassMeans } {
  const rowClasses = rowClassesOf(bundle);
  const classMeans = storedClassMeans(bundle);
  return { ...(rowClasses ? { rowClasses } : {}), ...(classMeans ? { classMeans } : {}) };
}

/** The class means (manifest memory.classMeans), checked against the features' channels; undefined for a bundle fitted before them. */
export function storedClassMeans(bundle: LoadedBundle): ClassMeans | undefined {
  const means = bundle.manifest.memory.classMeans;
  if (!means) return undefined;
  const problem = classMeansProblem(means, bundle.manifest.features.c);
  if (problem) throw bad(bundle.dir, problem);
  return means;
}

export function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new LafiteError(ErrorCode.BAD_BUNDLE, `raw float32 file of ${bytes.byteLength} bytes is not a multiple of 4`);
  return new Float32Array(bytes.slice().buffer);
}
