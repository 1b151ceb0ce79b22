/**
 * `lafite train --tiles CLASS`: continues training a tiled class's tile
 * U-Net (model/tiling.ts) instead of the whole model's. The tile bundle is
 * taken out of its parent, trained by trainBundle on the class's frames cut
 * into the same tiles (or its own replay sample), its tile thresholds
 * calibrated again; then the class's frame threshold and map units are
 * measured again on the new tile bundle as fit measured them
 * (pipeline/tiling/frame-units.ts), since a retrained U-Net moves its tile
 * scores either way, and the tile bundle goes back into a new version of the
 * parent. The whole model is untouched. The work folder sits beside the
 * output under a name of its own (.<out>.tiles-<class>), so an interrupted
 * run leaves its checkpoints there and the same command resumes it (or,
 * interrupted once trained, keeps the trained tile bundle it finds there).
 */
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { filesOf, readBundle, writeBundle, type BundleFiles, type BundleManifest } from "../model/bundle.js";
import { tileBundleOf, tileFileName, tileFilesInParent } from "../model/tiling.js";
import { describeFrameUnits, remeasureFrameUnits } from "../pipeline/tiling/frame-units.js";
import { invalidInput } from "../util/errors.js";
import { throwIfCancelled } from "../util/progress.js";
import { bundleVersion, verifyCandidate } from "./jobs/candidate.js";
import { checkTrainOptions, trainBundle, type TrainBundleOptions } from "./train-bundle.js";

/** The work folder of `lafite train --tiles cls` writing `out`: beside it, so a rerun finds its checkpoints. */
export function tileTrainingDir(out: string, cls: string): string {
  const abs = resolve(out);
  return join(dirname(abs), `.${basename(abs)}.tiles-${cls}`);
}

export async function trainTileBundle(options: TrainBundleOptions & { readonly tiles: string }): Promise<BundleManifest> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const cls = options.tiles;
  checkTrainOptions(options);
  if (options.tune) throw invalidInput("--tune re-tunes the whole model and does not go with --tiles: a tile model keeps fit's tuning (its thresholds are calibrated again)");
  const out = options.out ?? options.bundle;
  const parent = await readBundle(options.bundle);
  const m = parent.manifest;
  const t = m.tiling?.classes[cls];
  if (!t) {
    const tiled = Object.keys(m.tiling?.classes ?? {});
    throw invalidInput(`${options.bundle} does not score ${cls} in tiles (${tiled.length > 0 ? `its tiled classes: ${tiled.join(", ")}` : "it has no tiled class"})`);
  }
  const work = tileTrainingDir(out, cls);
  const active = join(work, "active");
  const candidate = join(work, "candidate");
  await mkdir(work, { recursive: true });
  // The tile bundle as a bundle of its own; a rerun writes the same one again, and trainBundle resumes from the checkpoints beside `candidate`.
  const view = tileBundleOf(parent, cls);
  const { files: _hashes, ...tileManifest } = view.manifest;
  await writeBundle(active, tileManifest, filesOf(view), true);
  const prefix = `train: ${cls} tiles: `;
  // Interrupted after its training (while the frame threshold was measured), the same command keeps what it trained.
  const earlier = await trainedEarlier(candidate, tileManifest.version, options);
  if (earlier) log(`${prefix}the tile U-Net an interrupted run of this command trained is in ${candidate}: kept, not trained again`);
  else await rm(candidate, { recursive: true, force: true });
  const next = earlier ?? (await trainBundle({ ...options, bundle: active, out: candidate, log: (msg) => log(msg.replace(/^train: /, prefix)) }));
  throwIfCancelled(options.signal, "train");

  // The frame threshold and map units on the new tile bundle, over fit's frames of the class; where they are gone, fit's stay.
  const got = await remeasureFrameUnits(candidate, options.bundle, m, cls, t, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.progressSink ? { progressSink: options.progressSink } : {}),
    ...(options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {}),
    ...(options.data !== undefined ? { data: options.data } : {}),
    what: "train",
  });
  const units = "units" in got ? got.units : undefined;
  if ("units" in got) log(`${prefix}${describeFrameUnits(got.units, got.q)} (before: frame threshold ${t.frameThreshold.toPrecision(5)})`);
  else log(`${prefix}fit's frame threshold ${t.frameThreshold.toPrecision(5)} and map units kept, not measured again (${got.kept})`);

  // The parent's files without the class's old tile files, then the new tile bundle's.
  const trained = await readBundle(candidate);
  const files: BundleFiles = {};
  for (const name of Object.keys(m.files)) if (!name.startsWith(tileFileName(cls, ""))) files[name] = parent.file(name);
  const own = filesOf(trained);
  Object.assign(files, tileFilesInParent(cls, own, trained.manifest, files));
  const { files: _parentHashes, ...manifest } = m;
  const createdAt = new Date();
  const denoiser = trained.manifest.scoring.denoiserFile;
  const written = await writeBundle(
    out,
    {
      ...manifest,
      version: bundleVersion(createdAt, denoiser ? own[denoiser]! : new TextEncoder().encode(JSON.stringify(trained.manifest))),
      createdAt: createdAt.toISOString(),
      parentVersion: m.version,
      tiling: { ...m.tiling!, classes: { ...m.tiling!.classes, [cls]: { ...t, ...(units ? { frameThreshold: units.frameThreshold, frames: units.frames, pixelUnits: units.pixelUnits } : {}), manifest: trained.manifest } } },
      // The tile bundle's own metrics.train says how it was trained; the parent's says which class's tiles were.
      metrics: { ...m.metrics, train: { tiles: cls, ...(next.metrics?.train ?? {}) } },
    },
    files,
    resolve(out) === resolve(options.bundle),
  );
  await verifyCandidate(out, options.intraOpThreads);
  await rm(work, { recursive: true, force: true });
  log(`train: wrote ${out} (version ${written.version}, parent ${m.version}) with ${cls}'s tile U-Net trained again; the whole model unchanged`);
  return written;
}

/**
 * The tile bundle at `candidate` when an earlier run of the same command trained it from the tile bundle of version
 * `from` (its parent) with the same budget, source and the flags given now; else undefined.
 */
async function trainedEarlier(candidate: string, from: string, options: TrainBundleOptions): Promise<BundleManifest | undefined> {
  const m = await readBundle(candidate).then((b) => b.manifest, () => undefined);
  const train = m?.metrics.train as { budget?: unknown; source?: string; lr?: number; tMax?: number; ema?: number | null; minSnr?: number | null } | undefined;
  if (!m || !train || m.parentVersion !== from) return undefined;
  const budget = { minutes: options.minutes ?? null, epochs: options.epochs ?? null, steps: options.steps ?? null };
  const same =
    JSON.stringify(train.budget) === JSON.stringify(budget) &&
    train.source === (options.replay ? "replay" : "data") &&
    (options.lr === undefined || train.lr === options.lr) &&
    (options.tMax === undefined || train.tMax === options.tMax) &&
    (options.ema === undefined || train.ema === options.ema) &&
    (options.minSnr === undefined || train.minSnr === options.minSnr);
  return same ? m : undefined;
}
