/**
 * Fit's tiling step (model/tiling.ts): for each class config.tiling names,
 * its training frames cut into tiles (tile references, image/tiles.ts: no
 * file is written) are fitted as a bundle of their own, its bank from the
 * tiles of the parent's bank frames and its held-out normals from the tiles
 * of the parent's held-out frames; then the frame threshold and map units
 * are measured on those frames, scored tile by tile as a served frame will
 * be (frame-units.ts), and pseudo-validation chooses (tile-choice.ts).
 */
import { basename, dirname, join } from "node:path";
import sharp from "sharp";
import type { DatasetClass } from "../../dataset/mvtec-layout.js";
import { tileRefsOf } from "../../image/tiles.js";
import { filesOf, readBundle, sha256, type LoadedBundle } from "../../model/bundle.js";
import type { ModelConfig } from "../../model/model-config.js";
import { TILE_GAIN, TILE_TOLERANCE, tileFilesInParent, type TileChoiceRecord, type TiledClass, type Tiling } from "../../model/tiling.js";
import { MIN_IMAGE_NORMALS, measureTileChoice } from "./tile-choice.js";
import { pseudoRecipe } from "../../model/model-config.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { formatSeconds, stderrSink, throwIfCancelled, type ProgressSink } from "../../util/progress.js";
import type { BundleDetector } from "../bundle-detector.js";
import { fitModel, fitWork, type FitOptions } from "../fit.js";
import { REFERENCE_SECONDS, settledRemaining, stageEstimates, type FitWork } from "../fit-eta.js";
import type { DiffusionConfig } from "../../model/diffusion/index.js";
import { detectorFromBundle } from "../load.js";
import { describeFrameUnits, leftOutFrames, measureFrameUnits, runtimeOf } from "./frame-units.js";
import { autoGrid } from "./auto-tiling.js";

/** A class's frames, as fit split them: the bank's and the held-out ones (paths). */
export interface TiledClassFrames {
  readonly name: string;
  readonly bank: readonly string[];
  readonly heldOut: readonly string[];
}

/** The folder the tile bundles are fitted in, beside the output (an interrupted fit resumes their training from its checkpoints there). */
export function tileWorkDir(out: string): string {
  return join(dirname(out), `.${basename(out)}.tiles`);
}

/** Where fit writes the whole model of a bundle with tiled classes, to measure the tiles against before the bundle is complete. */
export function wholeBundleDir(out: string): string {
  // Hidden: a class can never be named so (the data-set scanner skips hidden folders), and its tile bundle sits beside.
  return join(tileWorkDir(out), ".whole");
}

/** `wholeDir`: the whole model, written (wholeBundleDir). The tile bundles are fitted under tileWorkDir, which the caller removes once the bundle is written. */
export async function fitTiles(
  frames: readonly TiledClassFrames[],
  /** Each class's grid (tileGrids) and the estimated seconds of its tile fit (tileFitSeconds), in `frames`' order: a tile fit's ETA counts the ones after it. */
  grids: Readonly<Record<string, number>>,
  seconds: readonly number[],
  /** Each class's seconds per scoring after its tile fit (tileScoringSeconds), in `frames`' order: the ETA of those steps. */
  secondsPerScoring: readonly number[],
  parent: Pick<FitOptions, "data" | "config" | "cacheDir" | "signal" | "progressSink" | "executionProvider" | "intraOpThreads" | "tune" | "out">,
  wholeDir: string,
  log: (msg: string) => void,
  /** The classes were chosen by tiling.classes auto, not named: one whose tiles fail is served whole ({@link orServedWhole}). */
  bestEffort = false,
): Promise<{ tiling: Tiling; bundleFiles: Record<string, Record<string, Uint8Array>> }> {
  const t = parent.config.tiling;
  const work = tileWorkDir(parent.out);
  const classes: Record<string, TiledClass> = {};
  const dropped: Record<string, TileChoiceRecord> = {};
  /** Each tile bundle's files by name, as fitted (the parent stores them under tileFileName). */
  const bundleFiles: Record<string, Record<string, Uint8Array>> = {};
  const config = tileFitConfig(parent.config);
  for (const [index, f] of frames.entries()) {
    throwIfCancelled(parent.signal, "fit");
    await orServedWhole(f.name, bestEffort, log, async () => {
      if (f.heldOut.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `tiling ${f.name}: it has no held-out frame to measure its tiles' frame threshold on`);
      const grid = grids[f.name]!;
      log(`fit: ${f.name}: fitting its frames cut into ${grid}×${grid} tiles (overlap ${t.overlap}): ${f.bank.length * grid * grid} bank tiles, ${f.heldOut.length * grid * grid} held out`);
      const tileClass: DatasetClass = {
        name: f.name,
        train: f.bank.flatMap((p) => tileRefsOf(p, grid, t.overlap)),
        validation: f.heldOut.flatMap((p) => tileRefsOf(p, grid, t.overlap)),
        test: [],
        hasMasks: false,
        missingMasks: [],
      };
      const out = join(work, f.name);
      const manifest = await fitModel({
        ...parent,
        config,
        dataset: [tileClass],
        out,
        force: true,
        etaAfter: seconds.slice(index + 1).reduce((a, b) => a + b, 0),
        log: (m) => log(m.replace(/^fit: /, `fit: ${f.name} tiles: `)),
      });
      // The steps after the tile fit show the whole fit's ETA too.
      const scorings = tileScorings(parent.config, { bank: f.bank.length, heldOut: f.heldOut.length, grid, tune: parent.tune !== false });
      const sinkOf = tileStepSinks(scorings, secondsPerScoring[index] ?? 0, seconds.slice(index + 1).reduce((a, b) => a + b, 0), parent.progressSink ?? stderrSink);
      const units = await measureFrameUnits(out, wholeDir, f.name, f, grid, t.overlap, parent.config.threshold.quantile, { ...parent, sinkOf });
      log(`fit: ${f.name} tiles: ${describeFrameUnits(units, parent.config.threshold.quantile)}`);
      const record: TiledClass = { grid, overlap: t.overlap, frameThreshold: units.frameThreshold, frames: units.frames, pixelUnits: units.pixelUnits, manifest };
      const files = filesOf(await readBundle(out));
      if (!t.choose || parent.tune === false) {
        classes[f.name] = { ...record, mapOnly: t.mapOnly === true };
        bundleFiles[f.name] = files;
        return;
      }
      // Pseudo-validation decides: the class's held-out frames and anomalies synthesized on them, scored as served with the tiles.
      const served = await servedWithTiles(wholeDir, f.name, record, files, parent);
      let pseudo: TileChoiceRecord;
      try {
        pseudo = await measureTileChoice(served, { name: f.name, images: f.heldOut }, pseudoRecipe(parent.config.tuning), { ...(parent.signal ? { signal: parent.signal } : {}), progressSink: sinkOf("choice") });
      } finally {
        await served.close();
      }
      const mapOnly = t.mapOnly === "auto" ? pseudo.mapOnly === true : t.mapOnly;
      log(`fit: ${f.name} tiles: pseudo-validation (${pseudo.normals} held-out frames, ${pseudo.anomalies} synthesized anomalies), whole → with the tiles: image AUROC ${pct(pseudo.whole.imageAuroc)} → ${pct(pseudo.tiled.imageAuroc)}, pixel ${pct(pseudo.whole.pixelAuroc)} → ${pct(pseudo.tiled.pixelAuroc)}, AUPRO ${pct(pseudo.whole.aupro)} → ${pct(pseudo.tiled.aupro)}: ${pseudo.kept ? `tiles kept, ${mapOnly ? "in the map only" : "in the score and the map"}${t.mapOnly === "auto" ? ` (the score only for a gain of ${100 * TILE_GAIN} in image AUROC over at least ${MIN_IMAGE_NORMALS} held-out frames)` : " (tiling.mapOnly)"}` : `tiles dropped (kept only for a gain of ${100 * TILE_GAIN} in pixel AUROC, AUPRO or image AUROC with neither of the first two falling by ${100 * TILE_TOLERANCE}; tiling.choose: false keeps them)`}`);
      if (pseudo.kept) {
        classes[f.name] = { ...record, mapOnly, pseudo };
        bundleFiles[f.name] = files;
      } else {
        dropped[f.name] = pseudo;
      }
    });
  }
  return { tiling: { classes, ...(Object.keys(dropped).length > 0 ? { dropped } : {}) }, bundleFiles };
}

/**
 * One class's tile fit. Named classes (tiling.classes: [...]) fail the fit with it; classes the auto rule chose
 * (`bestEffort`) are served whole instead, with the reason logged, since a default should not cost the whole model.
 * A cancellation always propagates.
 */
export async function orServedWhole(cls: string, bestEffort: boolean, log: (msg: string) => void, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (!bestEffort || (err instanceof LafiteError && err.code === ErrorCode.CANCELLED)) throw err;
    log(`fit: ${cls}: its tiles could not be fitted, so it is served whole (tiling.classes auto): ${(err as Error).message}`);
  }
}

const pct = (x: number | null) => (x === null ? "–" : (100 * x).toFixed(1));

/** The whole model at `wholeDir` with class `cls`'s tile bundle (its `files` as fitted), loaded as the daemon would serve the two. */
async function servedWithTiles(wholeDir: string, cls: string, record: TiledClass, files: Readonly<Record<string, Uint8Array>>, o: Pick<FitOptions, "executionProvider" | "intraOpThreads">): Promise<BundleDetector> {
  const whole = await readBundle(wholeDir);
  const tileFiles = tileFilesInParent(cls, files, record.manifest, filesOf(whole));
  const view: LoadedBundle = {
    dir: wholeDir,
    manifest: { ...whole.manifest, tiling: { classes: { [cls]: record } }, files: { ...whole.manifest.files, ...Object.fromEntries(Object.entries(tileFiles).map(([name, data]) => [name, sha256(data)])) } },
    file: (name) => tileFiles[name] ?? whole.file(name),
  };
  return detectorFromBundle(view, runtimeOf(o));
}

/**
 * The config a tiled class's tile model is fitted with: the whole model's, without tiling of its own, with the tiling
 * section's training budget (tiling.samples, never above the whole model's) and K grid (tiling.ks).
 */
export function tileFitConfig(config: ModelConfig): ModelConfig {
  const t = config.tiling;
  const own = config.diffusion.samples;
  const samples = t.samples === null ? own : own === undefined ? t.samples : Math.min(own, t.samples);
  return {
    ...config,
    diffusion: { ...config.diffusion, ...(samples !== undefined ? { samples } : {}) },
    tuning: { ...config.tuning, ks: t.ks },
    tiling: { ...t, classes: [] },
  };
}

/** Each tiled class's grid: the configured one, or autoGrid over its frames' sizes. */
export async function tileGrids(t: ModelConfig["tiling"], frames: readonly TiledClassFrames[], inputSize: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const f of frames) out[f.name] = t.grid === "auto" ? autoGrid(await longSides([...f.bank, ...f.heldOut]), inputSize) : t.grid;
  return out;
}

/**
 * A tiled class's tile fit in seconds on the reference machine (fit-eta.ts): a fit of its frames' tiles, then the
 * scorings after it (the frame threshold's frames and the pseudo-validation's images, each whole and in grid² tiles).
 */
export function tileFitSeconds(config: ModelConfig, dcfg: DiffusionConfig | undefined, n: TileFitSize): number {
  const work = tileFitWork(config, dcfg, n);
  const stages = Object.values(stageEstimates(work)).reduce((a, b) => a + b, 0);
  const scorings = Object.values(tileScorings(config, n)).reduce((a, b) => a + b, 0);
  return stages + scorings * scoringSeconds(work);
}

/** fitWork of a fit of the class's frames cut into grid² tiles. */
function tileFitWork(config: ModelConfig, dcfg: DiffusionConfig | undefined, n: TileFitSize): FitWork {
  const k2 = n.grid * n.grid;
  return fitWork(config, dcfg, { images: (n.bank + n.heldOut) * k2, holdout: n.heldOut * k2, bankImagesPerClass: [n.bank * k2], leftOutImages: 0, c: n.c, h: n.h, w: n.w, tune: n.tune });
}

function scoringSeconds(work: FitWork): number {
  return REFERENCE_SECONDS.scoring + work.scoringGmac * REFERENCE_SECONDS.scoringGmac;
}

export interface TileFitSize {
  readonly bank: number;
  readonly heldOut: number;
  readonly grid: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly tune: boolean;
}

/** The scorings (a whole frame or a tile, each one backbone run and search) of each step after a tile fit, in their order. */
export function tileScorings(config: ModelConfig, n: Pick<TileFitSize, "bank" | "heldOut" | "grid" | "tune">): Record<TileStep, number> {
  const k2 = n.grid * n.grid;
  const leftOut = Math.min(n.bank, leftOutFrames(n.heldOut));
  return { heldOut: n.heldOut * k2, leftOut: leftOut * k2, wholeUnit: n.heldOut, choice: n.tune && config.tiling.choose ? (n.heldOut + 2 * config.tuning.perClass) * (k2 + 1) : 0 };
}

export const TILE_STEPS = ["heldOut", "leftOut", "wholeUnit", "choice"] as const;
export type TileStep = (typeof TILE_STEPS)[number];

/** One scoring's seconds on the reference machine (fit-eta.ts REFERENCE_SECONDS) against the tile bank of a class of this size. */
export function tileScoringSeconds(config: ModelConfig, dcfg: DiffusionConfig | undefined, n: TileFitSize): number {
  return scoringSeconds(tileFitWork(config, dcfg, n));
}

/**
 * Progress sinks for the steps after a tile fit, each line with the whole fit's ETA appended: the step's own (from its
 * rate once settled, as FitEta's stages), the estimates of the steps after it, and `after` seconds (later tile fits).
 */
export function tileStepSinks(scorings: Record<TileStep, number>, secondsPerScoring: number, after: number, base: ProgressSink): (step: TileStep) => ProgressSink {
  return (step) => (line, state) => {
    const own = settledRemaining(state) ?? scorings[step] * secondsPerScoring;
    const rest = TILE_STEPS.slice(TILE_STEPS.indexOf(step) + 1).reduce((a, later) => a + scorings[later] * secondsPerScoring, 0);
    base(`${line} · fit ETA ${formatSeconds(own + rest + after)}`, state);
  };
}

/** Each readable frame's long side in pixels (its header only); unreadable ones are left out. */
export async function longSides(paths: readonly string[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of paths) {
    const { width, height } = await sharp(p).metadata().catch(() => ({ width: undefined, height: undefined }));
    if (width && height) out.push(Math.max(width, height));
  }
  return out;
}
