/**
 * A tiled class's frame threshold and map units (model/tiling.ts): its
 * frames scored tile by tile by its tile bundle as a served frame will be,
 * and whole by the whole model. Fit measures them once its tile bundle is
 * fitted; refresh and retrain jobs measure them again on their candidate.
 */
import { quantile } from "../../model/scoring/threshold.js";
import { readBundle, type BundleManifest, type LoadedBundle } from "../../model/bundle.js";
import type { TiledClass, Tiling } from "../../model/tiling.js";
import { holdoutFramesOf } from "../../image/pseudo/holdout.js";
import { scanDataset } from "../../dataset/mvtec-layout.js";
import { parseModelConfig } from "../../model/model-config.js";
import { cropImage, tileRects } from "../../image/tiles.js";
import { readImageFile } from "../../image/read-image-file.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { Progress, throwIfCancelled, type ProgressSink } from "../../util/progress.js";
import { mapToFrame, type BundleDetector } from "../bundle-detector.js";
import type { FitOptions } from "../fit.js";
import { detectorFromBundle, loadDetector } from "../load.js";
import { evenlyPicked } from "../tune/left-out.js";

/** The quantile of normal pixels a map is counted in when the whole frame's and the tiles' maps are combined (model/tiling.ts). */
export const PIXEL_UNIT_QUANTILE = 0.99;

/**
 * The frames a tile bundle's frame threshold is measured on, at most: its held-out frames, then bank frames scored as
 * unseen. The 0.99 quantile of a frame's largest tile score needs about a hundred: over 30 it is their largest, and
 * the realistic veneer tiled 2×2 had 2 of its 20 good test frames above it (82.5); over 138 frames it stood at 91.8,
 * above all 20.
 */
export const FRAME_THRESHOLD_FRAMES = 100;

/** How many bank frames, scored as unseen, join `heldOut` held-out frames (at most: the class may have fewer). */
export function leftOutFrames(heldOut: number): number {
  return Math.max(0, FRAME_THRESHOLD_FRAMES - heldOut);
}

/** The steps of measureFrameUnits, each with its own progress. */
export type FrameUnitsStep = "heldOut" | "leftOut" | "wholeUnit";

/** What measureFrameUnits measured (TiledClass's frameThreshold, frames and pixelUnits), and of what. */
export interface FrameUnits {
  readonly frameThreshold: number;
  readonly frames: number;
  readonly pixelUnits: { readonly whole: number; readonly tiles: number };
  readonly heldOut: number;
  readonly leftOut: number;
  /** The quantile of the frames' largest tile scores, before it was raised to `own` where lower. */
  readonly measured: number;
  /** The tile bundle's threshold for one tile. */
  readonly own: number;
}

/**
 * A tiled class's frame threshold and map units (model/tiling.ts TiledClass), measured with its tile bundle at
 * `tileDir` and the whole model at `wholeDir`, as fit measures them and refresh and retrain jobs measure them again:
 * the `q` quantile of the largest tile score over its held-out frames, then bank frames (evenly picked, each tile scored
 * with its own rows left out) up to FRAME_THRESHOLD_FRAMES, never below one tile's threshold; the map units over the
 * held-out frames.
 */
export async function measureFrameUnits(
  tileDir: string,
  wholeDir: string,
  cls: string,
  frames: { readonly heldOut: readonly string[]; readonly bank: readonly string[] },
  grid: number,
  overlap: number,
  q: number,
  o: Pick<FitOptions, "signal" | "executionProvider" | "intraOpThreads" | "progressSink"> & {
    /** Each step's progress sink, over `progressSink` (fit's, with the whole fit's ETA: fit-tiles.ts tileStepSinks). */
    sinkOf?: (step: FrameUnitsStep) => ProgressSink;
    /** What its progress lines and cancellation are labelled as (default "fit"). */
    what?: string;
  },
): Promise<FrameUnits> {
  const with_ = (step: FrameUnitsStep) => {
    const sink = o.sinkOf?.(step) ?? o.progressSink;
    return sink ? { ...o, progressSink: sink } : o;
  };
  // Few held-out frames (a 25-frame class holds out 2) put the quantile of k² tiles' largest score at chance: bank frames scored as unseen join them.
  const leftOut = evenlyPicked(frames.bank, leftOutFrames(frames.heldOut.length));
  const heldOut = await scoreTiled(tileDir, cls, frames.heldOut, grid, overlap, with_("heldOut"), false);
  const frameScores = [...heldOut.largest, ...(leftOut.length > 0 ? (await scoreTiled(tileDir, cls, leftOut, grid, overlap, with_("leftOut"), true)).largest : [])];
  const pixelUnits = { whole: await wholePixelUnit(wholeDir, cls, frames.heldOut, with_("wholeUnit")), tiles: quantile(heldOut.pixels, PIXEL_UNIT_QUANTILE) };
  const own = tileThresholdOf((await readBundle(tileDir)).manifest, cls);
  const measured = quantile(frameScores, q);
  return { frameThreshold: Math.max(own, measured), frames: frameScores.length, pixelUnits, heldOut: heldOut.largest.length, leftOut: frameScores.length - heldOut.largest.length, measured, own };
}

/**
 * Class `cls`'s frames as fit measured its frame units on: fit's held-out frames of it under `data` (default the
 * data set the bundle records), and its other train/good frames, the bank's. Empty where the data set has none.
 */
export async function tiledClassFrames(p: BundleManifest["provenance"], cls: string, data = p.dataset): Promise<{ heldOut: readonly string[]; bank: readonly string[] }> {
  const heldOut = holdoutFramesOf(p.holdoutFiles, data, cls);
  const held = new Set(heldOut);
  const bank = (await scanDataset(data, { classes: [cls] }).catch(() => [])).find((c) => c.name === cls)?.train.filter((f) => !held.has(f)) ?? [];
  return { heldOut, bank };
}

/**
 * Class `cls`'s frame threshold and map units measured again, as fit measured them, on a new tile bundle at `tileDir`
 * beside the whole model at `wholeDir`, over fit's frames of the class (tiledClassFrames under `o.data`, default the
 * data set `parent` records), with the quantile of its config; or, where those frames are gone or unreadable, why not
 * (`kept`: fit's figures stand).
 */
export async function remeasureFrameUnits(
  tileDir: string,
  wholeDir: string,
  parent: BundleManifest,
  cls: string,
  t: Pick<TiledClass, "grid" | "overlap">,
  o: Parameters<typeof measureFrameUnits>[7] & { data?: string },
): Promise<{ units: FrameUnits; q: number } | { kept: string }> {
  const { heldOut, bank } = await tiledClassFrames(parent.provenance, cls, o.data);
  const q = parseModelConfig(parent.config).threshold.quantile;
  if (heldOut.length === 0) return { kept: `${o.data ?? parent.provenance.dataset} has none of fit's held-out frames of ${cls}` };
  try {
    return { units: await measureFrameUnits(tileDir, wholeDir, cls, { heldOut, bank }, t.grid, t.overlap, q, o), q };
  } catch (err) {
    if (!(err instanceof LafiteError && err.code === ErrorCode.BAD_DATASET)) throw err;
    return { kept: err.message };
  }
}

/** measureFrameUnits' figures in words, for a log line. */
export function describeFrameUnits(u: FrameUnits, q: number): string {
  return `frame threshold ${u.frameThreshold.toPrecision(5)} (the ${q} quantile of the largest tile score over ${u.heldOut} held-out frames${u.leftOut ? ` and ${u.leftOut} bank frames scored with their own rows left out` : ""}, ${u.measured.toPrecision(5)}, not below one tile's threshold ${u.own.toPrecision(5)}); map units, the ${PIXEL_UNIT_QUANTILE} quantile of the held-out frames' pixels: whole ${u.pixelUnits.whole.toPrecision(5)}, tiles ${u.pixelUnits.tiles.toPrecision(5)}`;
}

/** The tile bundle's threshold for one tile of its class, in its served mode. */
function tileThresholdOf(m: BundleManifest, cls: string): number {
  return m.threshold.classes?.[cls]?.value ?? m.threshold.value;
}

/**
 * Each frame's largest tile score, each tile scored by the tile bundle as served, and a sample of the stitched maps'
 * pixels; `leaveOut`: bank frames, each tile scored with its own rows left out.
 */
async function scoreTiled(bundleDir: string, cls: string, paths: readonly string[], grid: number, overlap: number, o: Pick<FitOptions, "signal" | "executionProvider" | "intraOpThreads" | "progressSink"> & { what?: string }, leaveOut: boolean): Promise<{ largest: number[]; pixels: number[] }> {
  const progress = new Progress(`${o.what ?? "fit"}: ${cls} tiles: ${leaveOut ? "bank frames scored unseen" : "held-out frames"}`, paths.length, { unit: "frames", ...(o.progressSink ? { sink: o.progressSink } : {}) });
  const pixels: number[] = [];
  const detector = await loadDetector(bundleDir, runtimeOf(o));
  try {
    const out: number[] = [];
    for (const path of paths) {
      throwIfCancelled(o.signal, o.what ?? "fit");
      const { image } = await readImageFile(path).catch(() => ({ image: undefined }));
      progress.tick();
      if (!image) continue;
      let largest = -Infinity;
      for (const rect of tileRects(image.width, image.height, grid, overlap)) {
        const scored = await detector.scoreImage(cropImage(image, rect), 0, cls, { leaveOut });
        largest = Math.max(largest, scored.score);
        if (!leaveOut) samplePixels(mapToFrame(scored.map, detector.info.inputSize, rect.width, rect.height, detector.aspect), pixels);
      }
      out.push(largest);
    }
    if (out.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `tiling ${cls}: none of its frames could be read`);
    return { largest: out, pixels };
  } finally {
    await detector.close();
  }
}

/**
 * `tiling` with each class's whole-model map unit (TiledClass.pixelUnits.whole) measured again on `whole`, a new whole
 * model (re-tuned, retrained, refreshed), over fit's held-out frames of the class (`holdoutFiles` under `dataset`): the
 * tile map is brought to the whole map's units by it. Only `classes` (default: every tiled class); one whose frames
 * are gone keeps its unit, and `warn` says so.
 */
export async function withWholeUnitsRemeasured(
  whole: LoadedBundle,
  tiling: Tiling,
  where: { readonly dataset: string; readonly holdoutFiles: readonly string[] },
  o: Pick<FitOptions, "executionProvider" | "intraOpThreads">,
  report: { info: (msg: string) => void; warn: (msg: string) => void },
  classes: readonly string[] = Object.keys(tiling.classes),
): Promise<Tiling> {
  const wanted = classes.filter((cls) => tiling.classes[cls]?.pixelUnits !== undefined);
  if (wanted.length === 0) return tiling;
  const out: Record<string, TiledClass> = { ...tiling.classes };
  const detector = await detectorFromBundle(whole, { tiling: false, ...runtimeOf(o) });
  try {
    for (const cls of wanted) {
      const t = tiling.classes[cls]!;
      const paths = holdoutFramesOf(where.holdoutFiles, where.dataset, cls);
      try {
        const unit = await pixelUnitOf(detector, paths, cls);
        out[cls] = { ...t, pixelUnits: { whole: unit, tiles: t.pixelUnits!.tiles } };
        report.info(`${cls} tiles: the whole model's map unit measured again on ${paths.length} held-out frames: ${t.pixelUnits!.whole.toPrecision(5)} → ${unit.toPrecision(5)}`);
      } catch (err) {
        if (!(err instanceof LafiteError && err.code === ErrorCode.BAD_DATASET)) throw err;
        report.warn(`${cls} tiles: the whole model's map unit kept (${t.pixelUnits!.whole.toPrecision(5)}), not measured again: ${err.message}`);
      }
    }
  } finally {
    await detector.close();
  }
  return { ...tiling, classes: out };
}

/** The served whole model's map unit for class `cls`: pixelUnitOf its held-out frames. */
async function wholePixelUnit(bundleDir: string, cls: string, paths: readonly string[], o: Pick<FitOptions, "executionProvider" | "intraOpThreads" | "progressSink"> & { what?: string }): Promise<number> {
  const detector = await loadDetector(bundleDir, { tiling: false, ...runtimeOf(o) });
  try {
    return await pixelUnitOf(detector, paths, cls, new Progress(`${o.what ?? "fit"}: ${cls} tiles: the whole model's map unit`, paths.length, { unit: "frames", ...(o.progressSink ? { sink: o.progressSink } : {}) }));
  } finally {
    await detector.close();
  }
}

/**
 * A detector's map unit over frames `paths` (judged as `cls` when given): the PIXEL_UNIT_QUANTILE of their map
 * pixels, each map at its frame's size. Unreadable frames are passed over; none readable is an error.
 */
export async function pixelUnitOf(detector: BundleDetector, paths: readonly string[], cls?: string, progress?: Progress): Promise<number> {
  const pixels: number[] = [];
  for (const path of paths) {
    const { image } = await readImageFile(path).catch(() => ({ image: undefined }));
    progress?.tick();
    if (!image) continue;
    const scored = await detector.scoreImage(image, 0, cls);
    samplePixels(mapToFrame(scored.map, detector.info.inputSize, image.width, image.height, detector.aspect), pixels);
  }
  if (pixels.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `${cls ?? "pixel unit"}: none of the ${paths.length} frames could be read`);
  return quantile(pixels, PIXEL_UNIT_QUANTILE);
}

/** The runtime a fit's detectors run on: its execution provider and threads, where given. */
export function runtimeOf(o: Pick<FitOptions, "executionProvider" | "intraOpThreads">): { executionProvider?: "cpu" | "cuda"; intraOpThreads?: number } {
  return { ...(o.executionProvider ? { executionProvider: o.executionProvider } : {}), ...(o.intraOpThreads ? { intraOpThreads: o.intraOpThreads } : {}) };
}

/** Every 7th pixel of a map into `out`: the quantile of a few million pixels needs no more. */
function samplePixels(map: Float32Array, out: number[]): void {
  for (let i = 0; i < map.length; i += 7) out.push(map[i]!);
}

