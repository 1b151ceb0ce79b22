/**
 * A job body for a bundle with tiled classes (model/tiling.ts): the body runs
 * on the whole model as before, then once more for each tiled class on its
 * tile bundle, learning from that class's accepted frames cut into the same
 * tiles (tile references, image/tiles.ts), so a false alarm the tiles raised
 * and an operator accepted is learnt where it was raised. The tile bundles
 * come back into the candidate in place of the old ones. A tiled class with
 * no accepted frame keeps its tile bundle as it was. A new tile bundle's
 * frame threshold and map units are measured again, as fit measured them
 * (pipeline/tiling/frame-units.ts), on fit's held-out and bank frames of
 * the class: the rows a refresh adds lower a normal frame's tile scores, and
 * a retrained U-Net moves them either way, so fit's frame threshold would
 * no longer stand for the class's threshold. A tiled class without accepted
 * frames has the whole model's map unit measured again, the whole model
 * having changed. Where fit's data set is gone, fit's figures are kept, and
 * the job says so.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { filesOf, readBundle, writeBundle, type BundleFiles, type BundleManifest } from "../../model/bundle.js";
import { tileBundleOf, tileFileName, tileFilesInParent, type TiledClass } from "../../model/tiling.js";
import { tileRefsOf } from "../../image/tiles.js";
import { describeFrameUnits, remeasureFrameUnits, withWholeUnitsRemeasured, type FrameUnits } from "../../pipeline/tiling/frame-units.js";
import { verifyCandidate } from "./candidate.js";
import { numberOption } from "./options.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { AcceptedFrame, JobBody, JobContext } from "./types.js";

export function withTiledClasses(body: JobBody): JobBody {
  return async (ctx) => {
    const result = await body(ctx);
    const parent = await readBundle(ctx.outDir);
    const tiling = parent.manifest.tiling;
    if (!tiling || Object.keys(tiling.classes).length === 0) return result;
    // An untagged frame counts for the class the whole model read it as (the candidate's data snapshot).
    const readAs = new Map((parent.manifest.dataSnapshot?.accepted ?? []).flatMap((a) => (a.readAs !== undefined ? [[a.sha256, a.readAs] as const] : [])));
    const classes: Record<string, TiledClass> = { ...tiling.classes };
    const tileFiles: Record<string, BundleFiles> = {};
    const summaries: Record<string, Record<string, unknown>> = {};
    for (const [cls, t] of Object.entries(tiling.classes)) {
      throwIfCancelled(ctx.signal, `${ctx.kind} of ${cls}'s tiles`);
      const frames = ctx.accepted.filter((f) => (f.classTag ?? readAs.get(f.sha256)) === cls);
      if (frames.length === 0) continue;
      const work = await mkdtemp(join(dirname(ctx.outDir), `.${basename(ctx.outDir)}.tiles-`));
      try {
        const active = join(work, "active");
        const out = join(work, "candidate");
        const view = tileBundleOf(parent, cls);
        const { files: _hashes, ...manifest } = view.manifest;
        await writeBundle(active, manifest, filesOf(view));
        const accepted: AcceptedFrame[] = frames.flatMap((f) => tileRefsOf(f.path, t.grid, t.overlap).map((path) => ({ path, sha256: f.sha256, classTag: cls })));
        ctx.log.info({ class: cls, frames: frames.length, tiles: accepted.length }, `${ctx.kind}: the tiled class's tile bundle, from its accepted frames' tiles`);
        const done = await body({ ...ctx, activeBundleDir: active, outDir: out, accepted, progress: (n, total, message) => ctx.progress(n, total, `${cls} tiles: ${message}`) });
        const next = await readBundle(out);
        const units = await remeasured(ctx, parent.manifest, cls, t, out);
        classes[cls] = { ...t, ...(units ? { frameThreshold: units.frameThreshold, frames: units.frames, pixelUnits: units.pixelUnits } : {}), manifest: next.manifest };
        tileFiles[cls] = filesOf(next);
        summaries[cls] = { frames: frames.length, tiles: accepted.length, frameThreshold: { before: t.frameThreshold, after: classes[cls]!.frameThreshold, measuredOn: units ? units.frames : 0 }, ...done.summary };
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    // The whole model changed too: the classes whose tile bundles did not have only its map unit measured again.
    const untouched = Object.keys(tiling.classes).filter((cls) => !(cls in tileFiles));
    const p = parent.manifest.provenance;
    const remeasuredTiling = await withWholeUnitsRemeasured(parent, { ...tiling, classes }, { dataset: p.dataset, holdoutFiles: p.holdoutFiles ?? [] }, optionalThreads(ctx), { info: (msg) => ctx.log.info(`${ctx.kind}: ${msg}`), warn: (msg) => ctx.log.warn(`${ctx.kind}: ${msg}`) }, untouched);
    // Nothing of the tiles changed (no accepted frame of a tiled class, the whole units as they were): the body's candidate stands.
    if (Object.keys(tileFiles).length === 0 && JSON.stringify(remeasuredTiling) === JSON.stringify(tiling)) return result;
    // The parent candidate's files without the replaced tile bundles' old ones, then theirs.
    const files: BundleFiles = {};
    for (const name of Object.keys(parent.manifest.files)) if (!Object.keys(tileFiles).some((cls) => name.startsWith(tileFileName(cls, "")))) files[name] = parent.file(name);
    for (const [cls, own] of Object.entries(tileFiles)) Object.assign(files, tileFilesInParent(cls, own, classes[cls]!.manifest, files));
    const { files: _hashes, ...manifest } = parent.manifest;
    // The classes fit's pseudo-validation dropped stay on record.
    const written: BundleManifest = await writeBundle(ctx.outDir, { ...manifest, tiling: remeasuredTiling }, files, true);
    // Verified as every candidate is, with the threads the body was given.
    await verifyCandidate(ctx.outDir, optionalThreads(ctx).intraOpThreads);
    ctx.log.info({ version: written.version, classes: Object.keys(tileFiles) }, `${ctx.kind}: candidate written with its tiled classes' ${Object.keys(tileFiles).length > 0 ? "new tile bundles" : "map units measured again"}`);
    return { summary: { ...result.summary, tiles: summaries } };
  };
}

/**
 * Class `cls`'s frame threshold and map units measured on its new tile bundle at `tileDir` and the job's whole
 * candidate (ctx.outDir), over fit's held-out and bank frames of the class; undefined (fit's kept, with a warning)
 * where fit's data set no longer has them.
 */
async function remeasured(ctx: JobContext, parent: BundleManifest, cls: string, t: TiledClass, tileDir: string): Promise<FrameUnits | undefined> {
  const got = await remeasureFrameUnits(tileDir, ctx.outDir, parent, cls, t, {
    signal: ctx.signal,
    // The job's progress follows the scorings (a minute or so for a class), as its own steps' did.
    progressSink: (line, state) => {
      ctx.log.debug(line);
      if (state) ctx.progress(state.done, state.total, state.label.slice(`${ctx.kind}: `.length));
    },
    what: ctx.kind,
    ...optionalThreads(ctx),
  });
  if ("kept" in got) {
    ctx.log.warn({ class: cls, dataset: parent.provenance.dataset, frameThreshold: t.frameThreshold }, `${ctx.kind}: ${cls} tiles: fit's frame threshold and map units kept, not measured again (${got.kept})`);
    return undefined;
  }
  const { units, q } = got;
  ctx.log.info({ class: cls, frameThreshold: units.frameThreshold, before: t.frameThreshold, frames: units.frames, pixelUnits: units.pixelUnits }, `${ctx.kind}: ${cls} tiles: ${describeFrameUnits(units, q)}`);
  return units;
}

function optionalThreads(ctx: JobContext): { intraOpThreads?: number } {
  const threads = numberOption(ctx.options, "intraOpThreads", { min: 1, max: 64, integer: true });
  return threads !== undefined ? { intraOpThreads: threads } : {};
}
