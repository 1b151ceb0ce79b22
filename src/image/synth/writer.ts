/**
 * Getting images onto disk safely: fixed-option PNG encoding (so a seed
 * always gives the same bytes), write-then-rename (so an interrupted run
 * never leaves a truncated PNG under its final name), and the guard that
 * keeps the generator from writing over someone else's folder.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { invalidInput } from "../../util/errors.js";
import { Progress, throwIfCancelled } from "../../util/progress.js";
import type { Image8 } from "./raster.js";

export const MANIFEST_FILE = "manifest.json";
export const GENERATOR_NAME = "lafite-synth";

export async function encodePng(img: Image8): Promise<Buffer> {
  const raw = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  const pipeline = sharp(raw, { raw: { width: img.width, height: img.height, channels: img.channels } });
  // sharp widens one-channel raw input to sRGB on output unless told the target is gray.
  if (img.channels === 1) pipeline.toColourspace("b-w");
  return pipeline
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false, progressive: false })
    .toBuffer();
}

/** Writes next to the target, then renames: readers see the old file, no file, or the whole new file. */
export async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

interface PreviousManifest {
  generator?: unknown;
  classes?: unknown;
}

/**
 * Who owns an output folder: the marker file a run writes first and the
 * generator name inside it. `lafite pseudo` uses the same guard with its own
 * marker.
 */
export interface OutputOwner {
  readonly manifestFile: string;
  readonly generator: string;
  /** The command, for the refusal message. */
  readonly command: string;
}

export const SYNTH_OWNER: OutputOwner = { manifestFile: MANIFEST_FILE, generator: GENERATOR_NAME, command: "lafite synth" };

/** Class folder names a previous run of `owner` listed in its manifest, if the folder is one. */
async function previousClasses(out: string, owner: OutputOwner): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(out, owner.manifestFile), "utf8");
  } catch {
    return undefined;
  }
  let parsed: PreviousManifest;
  try {
    parsed = JSON.parse(text) as PreviousManifest;
  } catch {
    return undefined;
  }
  if (parsed.generator !== owner.generator || !Array.isArray(parsed.classes)) return undefined;
  const names: string[] = [];
  for (const c of parsed.classes as unknown[]) {
    const name = (c as { name?: unknown } | null)?.name;
    // Only single plain folder names (no separators, no leading dot): a hand-edited manifest must not steer the clean-up outside `out`.
    if (typeof name === "string" && /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) names.push(name);
  }
  return names;
}

/**
 * Makes `out` ready to receive a data set. An empty or missing folder is used
 * as is; a previous output of the same owner (synth by default) is cleared of the class folders it listed
 * (so no stale images survive a run with smaller counts); anything else is
 * refused unless `force`, in which case files are written over but nothing
 * else is deleted.
 */
export async function prepareOutputDir(out: string, force: boolean, owner: OutputOwner = SYNTH_OWNER): Promise<void> {
  let entries: string[];
  try {
    const st = await stat(out);
    if (!st.isDirectory()) throw invalidInput(`--out ${out} exists and is not a folder`);
    entries = await readdir(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    await mkdir(out, { recursive: true });
    return;
  }
  if (entries.length === 0) return;
  const previous = await previousClasses(out, owner);
  if (previous !== undefined) {
    for (const name of previous) await rm(path.join(out, name), { recursive: true, force: true });
    return;
  }
  if (!force) {
    throw invalidInput(
      `--out ${out} is not empty and is not a previous '${owner.command}' output (no ${owner.manifestFile} from ${owner.generator}); ` +
        `choose an empty folder or pass --force to write into it anyway`,
    );
  }
}

/** One image of a planned data set: where its image (and mask) go. */
export interface PlannedFile {
  readonly image: string;
  readonly mask?: string;
}

/** Files written at once: rendering stays in order (and seeded), encoding and writing overlap. */
const MAX_IN_FLIGHT = 4;

/**
 * Renders every planned entry in order and writes its PNGs atomically under
 * `out`, a few writes in flight at a time; stops between images when
 * `signal` fires, after letting started writes land, so nothing is left
 * mid-rename. Shared by the demo and the realistic suites.
 */
export async function writePlannedImages<E extends PlannedFile>(
  out: string,
  entries: readonly E[],
  render: (entry: E) => { readonly image: Image8; readonly mask?: Image8 | undefined },
  options: { signal?: AbortSignal | undefined; onProgress?: ((event: { done: number; total: number; line: string }) => void) | undefined },
): Promise<void> {
  const onProgress = options.onProgress;
  const progress = new Progress("synth", entries.length, { unit: "images", sink: (line) => onProgress?.({ done: progress.count, total: entries.length, line }) });
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for (const entry of entries) {
      throwIfCancelled(options.signal, "synth");
      if (failure) throw failure.error;
      const sample = render(entry);
      const task = (async () => {
        await writeAtomic(path.join(out, entry.image), await encodePng(sample.image));
        if (entry.mask && sample.mask) await writeAtomic(path.join(out, entry.mask), await encodePng(sample.mask));
        progress.tick();
      })().catch((error: unknown) => {
        failure ??= { error };
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    }
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure.error;
}
