/**
 * `lafite synth --suite realistic`: a harder benchmark than the demo, in the
 * MVTec AD layout. Real textures from a Debian package (texture-source.ts),
 * objects from the demo generator, and classes aimed at the factory suite's
 * weak spots (classes.ts). `scale` shrinks every count (tests use a tiny
 * suite, the benchmark the full one); the same seed and scale always give
 * byte-identical files.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { invalidInput } from "../../../util/errors.js";
import { throwIfCancelled } from "../../../util/progress.js";
import { stem } from "../layout.js";
import type { SampleId } from "../sample.js";
import { GENERATOR_NAME, MANIFEST_FILE, prepareOutputDir, writeAtomic, writePlannedImages } from "../writer.js";
import { OPTIONAL_REALISTIC_CLASSES, REALISTIC_CLASSES } from "./classes.js";
import { renderRealisticSample } from "./sample.js";
import { loadTexture, TEXTURE_SOURCES, type TextureName, type TextureSource } from "./texture-source.js";
import type { RealisticClass, Textures } from "./types.js";

export { OPTIONAL_REALISTIC_CLASSES, REALISTIC_CLASSES } from "./classes.js";
export { renderRealisticSample } from "./sample.js";
export { TEXTURE_SOURCES, loadTexture } from "./texture-source.js";
export type { RealisticClass } from "./types.js";

/** Bump whenever a change to the suite changes its output for a given seed and scale. */
export const REALISTIC_VERSION = 1;

const MAX_SCALE = 4;

export interface RealisticClassInfo {
  readonly name: string;
  readonly exercises: string;
  readonly channels: 1 | 3;
  /** [min width, max width, min height, max height] of the frames. */
  readonly sizeRange: readonly [number, number, number, number];
  readonly defects: readonly string[];
  readonly maxDefectArea: number;
  readonly textures: readonly string[];
  readonly train: number;
  readonly testGood: number;
  readonly testPerDefect: number;
}

export interface RealisticManifest {
  readonly generator: typeof GENERATOR_NAME;
  readonly suite: "realistic";
  readonly suiteVersion: number;
  readonly layout: "mvtec-ad";
  readonly seed: number;
  readonly scale: number;
  readonly complete: boolean;
  /** How masks are made: the painted defect's alpha ≥ 0.5. */
  readonly maskRule: string;
  /** Where each texture comes from (Debian package, path, licence) and the digest of the file read. */
  readonly textures: ReadonlyArray<TextureSource & { readonly sha256: string }>;
  readonly classes: readonly RealisticClassInfo[];
  readonly totalImages: number;
  readonly totalMasks: number;
}

export interface RealisticOptions {
  readonly out: string;
  readonly seed: number;
  /** Fraction of the full-size counts (default 1); each count keeps a floor so every split exists. */
  readonly scale?: number;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: { done: number; total: number; line: string }) => void;
  /** Restrict to some classes by name, optional classes (OPTIONAL_REALISTIC_CLASSES) included; the default classes otherwise. */
  readonly classes?: readonly string[];
}

/** A full-size count times the scale, never below `floor` (a fit needs 4 train images per class to hold some out). */
export function scaledCount(full: number, scale: number, floor: number): number {
  return Math.max(floor, Math.round(full * scale));
}

function classCounts(cls: RealisticClass, scale: number) {
  return { train: scaledCount(cls.train, scale, 4), testGood: scaledCount(cls.testGood, scale, 2), testPerDefect: scaledCount(cls.testPerDefect, scale, 2) };
}

function selectClasses(names: readonly string[] | undefined): readonly RealisticClass[] {
  if (names === undefined) return REALISTIC_CLASSES;
  if (names.length === 0) throw invalidInput("no realistic class named");
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) throw invalidInput(`realistic class '${twice[0]}' is named twice`);
  return names.map((name) => {
    const known = [...REALISTIC_CLASSES, ...OPTIONAL_REALISTIC_CLASSES];
    const cls = known.find((c) => c.name === name);
    if (!cls) throw invalidInput(`unknown realistic class '${name}' (known: ${known.map((c) => c.name).join(", ")})`);
    return cls;
  });
}

function buildManifest(seed: number, scale: number, classes: readonly RealisticClass[], tex: Textures, complete: boolean): RealisticManifest {
  const info = classes.map((c) => ({
    name: c.name,
    exercises: c.exercises,
    channels: c.channels,
    sizeRange: c.sizeRange,
    defects: c.defects,
    maxDefectArea: c.maxDefectArea,
    textures: c.textures,
    ...classCounts(c, scale),
  }));
  const used = [...new Set(classes.flatMap((c) => c.textures))].sort();
  const totalMasks = info.reduce((s, c) => s + c.defects.length * c.testPerDefect, 0);
  return {
    generator: GENERATOR_NAME,
    suite: "realistic",
    suiteVersion: REALISTIC_VERSION,
    layout: "mvtec-ad",
    seed,
    scale,
    complete,
    maskRule: "alpha >= 0.5 of the painted defect (missing/extra part: its footprint)",
    textures: used.map((t) => ({ ...TEXTURE_SOURCES[t]!, sha256: tex[t]?.sha256 ?? "" })),
    classes: info,
    totalImages: info.reduce((s, c) => s + c.train + c.testGood, 0) + totalMasks,
    totalMasks,
  };
}

interface Entry {
  readonly cls: RealisticClass;
  readonly id: SampleId;
  readonly image: string;
  readonly mask?: string;
}

function plan(classes: readonly RealisticClass[], scale: number): Entry[] {
  const entries: Entry[] = [];
  for (const cls of classes) {
    const n = classCounts(cls, scale);
    for (let i = 0; i < n.train; i++) entries.push({ cls, id: { split: "train", label: "good", index: i }, image: `${cls.name}/train/good/${stem(i)}.png` });
    for (let i = 0; i < n.testGood; i++) entries.push({ cls, id: { split: "test", label: "good", index: i }, image: `${cls.name}/test/good/${stem(i)}.png` });
    for (const d of cls.defects) {
      for (let i = 0; i < n.testPerDefect; i++) {
        entries.push({ cls, id: { split: "test", label: d, index: i }, image: `${cls.name}/test/${d}/${stem(i)}.png`, mask: `${cls.name}/ground_truth/${d}/${stem(i)}_mask.png` });
      }
    }
  }
  return entries;
}

export async function synthesizeRealistic(options: RealisticOptions): Promise<RealisticManifest> {
  const { out, seed, signal } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidInput(`seed must be an integer from 0 to 4294967295, got ${seed}`);
  const scale = options.scale ?? 1;
  if (!(scale > 0 && scale <= MAX_SCALE)) throw invalidInput(`scale must be a number in (0, ${MAX_SCALE}], got ${scale}`);
  const classes = selectClasses(options.classes);
  // Textures first: a missing Debian package fails before anything is written.
  const tex: Partial<Record<TextureName, Awaited<ReturnType<typeof loadTexture>>>> = {};
  for (const name of new Set(classes.flatMap((c) => c.textures))) tex[name] = await loadTexture(name);
  const textures: Textures = tex;
  throwIfCancelled(signal, "synth");
  await prepareOutputDir(out, options.force ?? false);
  const write = (m: RealisticManifest) => writeAtomic(path.join(out, MANIFEST_FILE), `${JSON.stringify(m, null, 2)}\n`);
  await write(buildManifest(seed, scale, classes, textures, false));

  const entries = plan(classes, scale);
  const folders = new Set<string>();
  for (const e of entries) for (const f of e.mask ? [e.image, e.mask] : [e.image]) folders.add(f.slice(0, f.lastIndexOf("/")));
  for (const f of [...folders].sort()) await mkdir(path.join(out, f), { recursive: true });

  await writePlannedImages(out, entries, (entry) => renderRealisticSample(seed, entry.cls, entry.id, textures), { signal, onProgress: options.onProgress });
  const manifest = buildManifest(seed, scale, classes, textures, true);
  await write(manifest);
  return manifest;
}
