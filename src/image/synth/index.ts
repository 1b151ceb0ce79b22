/**
 * The demo data set: synthetic product images in the MVTec AD layout, with
 * pixel-exact ground truth. `lafite synth` writes it from the command line;
 * the daemon calls `synthesizeDataset` on first start to have training data
 * for its default model. The same seed always gives byte-identical files.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { invalidInput } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import { PRODUCT_CLASSES, type ProductClass } from "./classes.js";
import { layoutFolders, planLayout, type Counts } from "./layout.js";
import { MASK_THRESHOLD, renderSample } from "./sample.js";
import { GENERATOR_NAME, MANIFEST_FILE, prepareOutputDir, writeAtomic, writePlannedImages } from "./writer.js";
import { SYNTH_VARIANTS, type SynthVariant } from "./variant.js";

export { PRODUCT_CLASSES } from "./classes.js";
export type { ProductClass, DefectType } from "./classes.js";
export { renderSample, diffMask, MASK_THRESHOLD } from "./sample.js";
export type { RenderedSample, SampleId } from "./sample.js";
export { planLayout } from "./layout.js";
export type { Counts, LayoutEntry } from "./layout.js";
export { GENERATOR_NAME, MANIFEST_FILE } from "./writer.js";
export { SYNTH_VARIANTS, type SynthVariant } from "./variant.js";

/** Bump whenever a change to the generator changes its output for a given seed. */
export const GENERATOR_VERSION = 1;

export const DEFAULT_COUNTS: Counts = { trainPerClass: 60, testGoodPerClass: 15, testPerDefect: 6 };

/** Upper bound on any count, so a typo cannot fill the disk. */
const MAX_COUNT = 10_000;
/** Images rendered ahead while earlier ones are still being encoded and written on sharp's threads. */

export interface SynthClassInfo {
  readonly name: string;
  readonly kind: "texture" | "object";
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly defects: readonly string[];
  readonly train: number;
  readonly testGood: number;
  readonly testPerDefect: number;
}

export interface SynthManifest {
  readonly generator: typeof GENERATOR_NAME;
  readonly generatorVersion: number;
  readonly layout: "mvtec-ad";
  readonly seed: number;
  /** Present for variants other than normal (whose manifest is unchanged). */
  readonly variant?: SynthVariant;
  /** False while a run is writing; a folder whose manifest says false holds a partial data set. */
  readonly complete: boolean;
  /** Minimum 8-bit change in some channel for a pixel to be marked in a mask. */
  readonly maskThreshold: number;
  readonly counts: Counts;
  readonly classes: readonly SynthClassInfo[];
  readonly totalImages: number;
  readonly totalMasks: number;
}

export interface SynthProgressEvent {
  readonly done: number;
  readonly total: number;
  /** Human-readable line with rate and ETA from the shared Progress. */
  readonly line: string;
}

export interface SynthOptions {
  readonly out: string;
  readonly seed: number;
  readonly trainPerClass?: number;
  readonly testGoodPerClass?: number;
  readonly testPerDefect?: number;
  /** Write into a non-empty folder that is not a previous synth output. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  /** Called at most twice a second and once at the end; silent when absent. */
  readonly onProgress?: (event: SynthProgressEvent) => void;
  /** Restrict to some classes by name (tests); all classes by default. */
  readonly classes?: readonly string[];
  /** `shifted`: the same classes under new lighting, colour cast and material batch (variant.ts). Default normal. */
  readonly variant?: SynthVariant;
}

function checkCount(value: number | undefined, fallback: number, what: string): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT) throw invalidInput(`${what} must be an integer from 0 to ${MAX_COUNT}, got ${n}`);
  return n;
}

function selectClasses(names: readonly string[] | undefined): readonly ProductClass[] {
  if (names === undefined) return PRODUCT_CLASSES;
  return names.map((name) => {
    const cls = PRODUCT_CLASSES.find((c) => c.name === name);
    if (!cls) throw invalidInput(`unknown synth class '${name}' (known: ${PRODUCT_CLASSES.map((c) => c.name).join(", ")})`);
    return cls;
  });
}

function buildManifest(seed: number, counts: Counts, classes: readonly ProductClass[], complete: boolean, variant: SynthVariant): SynthManifest {
  const info = classes.map((c) => ({
    name: c.name,
    kind: c.kind,
    width: c.width,
    height: c.height,
    channels: c.channels,
    defects: c.defects.map((d) => d.name),
    train: counts.trainPerClass,
    testGood: counts.testGoodPerClass,
    testPerDefect: counts.testPerDefect,
  }));
  const totalMasks = info.reduce((s, c) => s + c.defects.length * c.testPerDefect, 0);
  const totalImages = info.reduce((s, c) => s + c.train + c.testGood, 0) + totalMasks;
  return {
    generator: GENERATOR_NAME,
    generatorVersion: GENERATOR_VERSION,
    layout: "mvtec-ad",
    seed,
    ...(variant !== "normal" ? { variant } : {}),
    complete,
    maskThreshold: MASK_THRESHOLD,
    counts,
    classes: info,
    totalImages,
    totalMasks,
  };
}

async function writeManifest(out: string, manifest: SynthManifest): Promise<void> {
  await writeAtomic(path.join(out, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Writes the data set into `options.out` and returns its manifest. The
 * manifest is written first with `complete: false` (which also marks the
 * folder as ours, so an interrupted run can be redone without --force) and
 * rewritten with `complete: true` after the last image.
 */
export async function synthesizeDataset(options: SynthOptions): Promise<SynthManifest> {
  const { out, seed, signal } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidInput(`seed must be an integer from 0 to 4294967295, got ${seed}`);
  const counts: Counts = {
    trainPerClass: checkCount(options.trainPerClass, DEFAULT_COUNTS.trainPerClass, "train images per class"),
    testGoodPerClass: checkCount(options.testGoodPerClass, DEFAULT_COUNTS.testGoodPerClass, "good test images per class"),
    testPerDefect: checkCount(options.testPerDefect, DEFAULT_COUNTS.testPerDefect, "test images per defect type"),
  };
  const classes = selectClasses(options.classes);
  const variant = options.variant ?? "normal";
  if (!SYNTH_VARIANTS.includes(variant)) throw invalidInput(`unknown synth variant '${String(variant)}' (known: ${SYNTH_VARIANTS.join(", ")})`);
  throwIfCancelled(signal, "synth");
  await prepareOutputDir(out, options.force ?? false);
  await writeManifest(out, buildManifest(seed, counts, classes, false, variant));

  const entries = planLayout(classes, counts);
  for (const folder of layoutFolders(entries)) await mkdir(path.join(out, folder), { recursive: true });

  await writePlannedImages(out, entries, (entry) => renderSample(seed, entry.cls, entry.id, variant), { signal, onProgress: options.onProgress });
  const manifest = buildManifest(seed, counts, classes, true, variant);
  await writeManifest(out, manifest);
  return manifest;
}
