/**
 * The pseudo-validation set on disk, in the MVTec AD layout so `lafite eval`
 * and people can read it:
 *   <out>/<class>/test/good/<stem>.png              the normal images
 *   <out>/<class>/test/pseudo/<stem>.png            synthesized anomalies
 *   <out>/<class>/ground_truth/pseudo/<stem>_mask.png  0/255
 *   <out>/pseudo.json   seed, counts, sources and one record per anomaly
 * Written like the demo data set: the record is written first with
 * complete:false (marking the folder as ours, so a rerun needs no --force),
 * every PNG is written to a temp name and renamed, and the record is
 * rewritten complete at the end. Gray images are stored with one channel.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { RgbImage } from "../image/decode.js";
import { encodePng, prepareOutputDir, writeAtomic, type OutputOwner } from "../image/synth/writer.js";
import type { Image8 } from "../image/synth/raster.js";
import { scanDataset } from "./mvtec-layout.js";
import { LafiteError, ErrorCode, invalidInput } from "../util/errors.js";
import { Progress, throwIfCancelled, type ProgressSink } from "../util/progress.js";
import type { AnomalyInfo, AnomalyOptions } from "../image/pseudo/anomaly.js";
import { checkPseudoOptions, pseudoSamples, type PseudoClass } from "../image/pseudo/samples.js";

export const PSEUDO_FILE = "pseudo.json";
export const PSEUDO_GENERATOR = "lafite-pseudo";
/** Bump whenever a change to the generator changes its output for a given seed. */
export const PSEUDO_VERSION = 1;
/** The defect folder name of synthesized anomalies. */
export const PSEUDO_DEFECT = "pseudo";

const OWNER: OutputOwner = { manifestFile: PSEUDO_FILE, generator: PSEUDO_GENERATOR, command: "lafite pseudo" };

export interface PseudoRecordSample extends AnomalyInfo {
  readonly cls: string;
  readonly name: string;
  readonly target: string;
  readonly source: string;
  readonly selfPaste?: boolean;
}

export interface PseudoRecord {
  readonly generator: typeof PSEUDO_GENERATOR;
  readonly generatorVersion: number;
  readonly layout: "mvtec-ad";
  readonly complete: boolean;
  readonly seed: number;
  readonly perClass: number;
  readonly crossClass: boolean;
  /** Share of the anomalies blended in seamlessly (absent: none). */
  readonly seamless?: number;
  /** Share of the anomalies that are logical, a part removed or added (absent: none). */
  readonly logical?: number;
  /** Share of the other anomalies shaded in place (absent: none). */
  readonly shade?: number;
  /** Share of the anomalies left after those warped in place (absent: none). */
  readonly warp?: number;
  /** The data set the normals came from, when read from one; source paths are relative to it. */
  readonly data?: string;
  readonly classes: readonly { readonly name: string; readonly good: number; readonly pseudo: number; readonly sources: readonly string[] }[];
  readonly samples: readonly PseudoRecordSample[];
}

export interface WritePseudoOptions {
  /** A data set in MVTec layout: each class's train/good images are the normals, unless `classes` is given. Recorded paths are relative to it. */
  readonly data?: string;
  /** The normals directly (e.g. a bundle's held-out files); needs no `data`. */
  readonly classes?: readonly PseudoClass[];
  readonly out: string;
  readonly seed: number;
  readonly perClass: number;
  readonly crossClass?: boolean;
  /** Write into a non-empty folder that is not a previous pseudo output. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  /** Progress lines at most twice a second; silent when absent. */
  readonly progressSink?: ProgressSink;
  readonly anomaly?: AnomalyOptions;
  /** Share of the anomalies made logical (see PseudoOptions.logical). */
  readonly logical?: number;
  /** Share of the other anomalies shaded in place (see PseudoOptions.shade). */
  readonly shade?: number;
  /** Share of those left warped in place (see PseudoOptions.warp). */
  readonly warp?: number;
}

function toImage8(img: RgbImage): Image8 {
  if (!img.gray) return { width: img.width, height: img.height, channels: 3, data: img.rgb };
  const data = new Uint8Array(img.width * img.height);
  for (let i = 0; i < data.length; i++) data[i] = img.rgb[3 * i]!;
  return { width: img.width, height: img.height, channels: 1, data };
}

function maskImage(mask: Uint8Array, width: number, height: number): Image8 {
  const data = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) data[i] = mask[i] ? 255 : 0;
  return { width, height, channels: 1, data };
}

async function resolveClasses(options: WritePseudoOptions): Promise<readonly PseudoClass[]> {
  if (options.classes) return options.classes;
  if (options.data === undefined) throw invalidInput("give a data set folder or a list of classes of normal images");
  const scanned = await scanDataset(options.data!);
  const empty = scanned.filter((c) => c.train.length === 0).map((c) => c.name);
  if (empty.length > 0) {
    throw new LafiteError(ErrorCode.BAD_DATASET, `class(es) ${empty.join(", ")} in ${options.data} have no train/good images to build a pseudo-validation set from`);
  }
  return scanned.map((c) => ({ name: c.name, images: c.train }));
}

export async function writePseudoSet(options: WritePseudoOptions): Promise<PseudoRecord> {
  const { out, seed, perClass, signal } = options;
  const crossClass = options.crossClass ?? false;
  checkPseudoOptions({ seed, perClass });
  const classes = await resolveClasses(options);
  for (const c of classes) {
    // Class names become folder names.
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(c.name)) throw invalidInput(`class name '${c.name}' cannot be a folder name`);
  }
  // Paths outside `data` (classes given directly) stay as given rather than becoming ../ chains.
  const shown = (p: string) => {
    if (options.data === undefined) return p;
    const rel = path.relative(options.data, p);
    return rel.startsWith("..") || path.isAbsolute(rel) ? p : rel.split(path.sep).join("/");
  };
  const record = (complete: boolean, samples: PseudoRecordSample[]): PseudoRecord => ({
    generator: PSEUDO_GENERATOR,
    generatorVersion: PSEUDO_VERSION,
    layout: "mvtec-ad",
    complete,
    seed,
    perClass,
    crossClass,
    ...(options.anomaly?.seamless ? { seamless: options.anomaly.seamless } : {}),
    ...(options.logical ? { logical: options.logical } : {}),
    ...(options.shade ? { shade: options.shade } : {}),
    ...(options.warp ? { warp: options.warp } : {}),
    ...(options.data !== undefined ? { data: path.resolve(options.data) } : {}),
    classes: classes.map((c) => ({ name: c.name, good: c.images.length, pseudo: perClass, sources: c.images.map(shown) })),
    samples,
  });
  const writeRecord = (r: PseudoRecord) => writeAtomic(path.join(out, PSEUDO_FILE), `${JSON.stringify(r, null, 2)}\n`);

  throwIfCancelled(signal, "pseudo");
  await prepareOutputDir(out, options.force ?? false, OWNER);
  await writeRecord(record(false, []));
  for (const c of classes) {
    for (const folder of ["test/good", `test/${PSEUDO_DEFECT}`, `ground_truth/${PSEUDO_DEFECT}`]) await mkdir(path.join(out, c.name, folder), { recursive: true });
  }

  const total = classes.reduce((s, c) => s + c.images.length + perClass, 0);
  const sink = options.progressSink;
  const progress = new Progress("pseudo", total, { unit: "images", sink: (line) => sink?.(line) });
  const samples: PseudoRecordSample[] = [];
  for await (const s of pseudoSamples(classes, { seed, perClass, crossClass, ...(signal ? { signal } : {}), ...(options.anomaly ? { anomaly: options.anomaly } : {}), ...(options.logical ? { logical: options.logical } : {}), ...(options.shade ? { shade: options.shade } : {}), ...(options.warp ? { warp: options.warp } : {}) })) {
    const base = path.join(out, s.cls);
    if (s.kind === "good") {
      await writeAtomic(path.join(base, "test", "good", `${s.name}.png`), await encodePng(toImage8(s.image)));
    } else {
      await writeAtomic(path.join(base, "test", PSEUDO_DEFECT, `${s.name}.png`), await encodePng(toImage8(s.image)));
      await writeAtomic(path.join(base, "ground_truth", PSEUDO_DEFECT, `${s.name}_mask.png`), await encodePng(maskImage(s.mask!, s.image.width, s.image.height)));
      samples.push({ cls: s.cls, name: s.name, target: shown(s.target), source: shown(s.source!), ...(s.selfPaste ? { selfPaste: true } : {}), ...s.info! });
    }
    progress.tick();
  }
  const done = record(true, samples);
  await writeRecord(done);
  return done;
}
