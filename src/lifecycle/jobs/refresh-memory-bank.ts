/**
 * Job body `refresh` (issue 9 part 3): grow the memory bank with what the
 * accepted normal frames show that the bank does not yet cover, without
 * refitting.
 *   1. standardized features of the accepted frames (bundle statistics kept);
 *      a share of them (fit's holdout fraction, per class tag) held out
 *   2. their slices, in the coreset selection's stored projection, seeded
 *      with their distance to the existing bank (ONNX kNN)
 *   3. greedy k-center continued while a new slice lies beyond its covering
 *      radius, at most `maxAdditions` picks: the radius of its frame's class,
 *      where its held-out normals' farthest slices typically lie, capped by
 *      fit's (class-reference-radii.ts)
 *   4. bank = old rows + picked rows → coreset.f32 and a rebuilt FAISS index
 *      (the ONNX kNN is built from coreset.f32 when the bundle loads); past
 *      memory.maxCoresetSize × (1 + memory.refreshHeadroom) the bank is
 *      consolidated back to that ceiling, each class keeping its share of
 *      rows and the added rows kept first (consolidate.ts), so a nightly
 *      refresh keeps working once the bank is full
 *   5. the context bank, when the model has one, grown the same way from the
 *      accepted frames tagged with its classes and, past its ceiling,
 *      consolidated back to it likewise (grow-context-bank.ts)
 *   6. thresholds re-calibrated by fit's rule on fit's held-out normals plus
 *      the held-out accepted frames
 *   7. a new, verified candidate bundle
 * Options: maxAdditions (default 25 % of the current bank; for bundles from
 * before row classes were stored, never past the ceiling), holdout (fraction of accepted frames held out;
 * default the config's threshold.holdout), coverage (class, the default: each
 * slice to its class's radius; fit: every slice to fit's radius, the rule
 * before class radii), intraOpThreads.
 */
import { contextBankOf, float32Bytes, int32Bytes, rowClassesOf, storedClassMeans, type BundleManifest } from "../../model/bundle.js";
import { frameMean, lightChanges, lightGrowth, misreadings, reachChanges, withAlike, withFrameMeans, withReach, type ClassMeans } from "../../model/memory/class-means.js";
import { growContextBank, type GrownContextBank } from "./grow-context-bank.js";
import { FaissIndex } from "../../model/memory/faiss-index.js";
import { throwIfCancelled } from "../../util/progress.js";
import { openActiveModel } from "./active-model.js";
import { baseHoldoutMaps, calibrateThresholds, modesOf } from "./calibrate.js";
import { bundleVersion, withoutFiles, writeCandidate } from "./candidate.js";
import { continueKCenter, projectRowsWith, sliceRowsWith } from "./continue-k-center.js";
import { coverageSpace, nearestBankDistances } from "./coverage-space.js";
import { acceptedFeatures, judgedClassOf } from "./accepted-features.js";
import { candidateRadii, classReferenceRadii, farthestSliceDistances } from "./class-reference-radii.js";
import { growBank } from "./grow-bank.js";
import { checkOptionKeys, choiceOption, numberOption } from "./options.js";
import type { JobBody } from "./types.js";
import { withTiledClasses } from "./tiled-classes.js";

/** The refresh of a bundle and, for its tiled classes, of their tile bundles (tiled-classes.ts). */
export const refreshMemoryBank: JobBody = withTiledClasses((ctx) => refreshWholeMemoryBank(ctx));

const refreshWholeMemoryBank: JobBody = async (ctx) => {
  const started = performance.now();
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    timings[name] = Math.round(performance.now() - t);
    t = performance.now();
  };
  checkOptionKeys(ctx.options, "refresh", ["intraOpThreads", "holdout", "maxAdditions", "coverage"]);
  const intraOpThreads = numberOption(ctx.options, "intraOpThreads", { min: 1, max: 64, integer: true });
  const coverage = choiceOption(ctx.options, "coverage", ["class", "fit"] as const) ?? "class";
  const model = await openActiveModel(ctx.activeBundleDir, intraOpThreads);
  try {
    const m = model.manifest;
    const { c, h, w } = m.features;
    const holdoutFraction = numberOption(ctx.options, "holdout", { min: 0, max: 0.5 }) ?? m.config.threshold.holdout;
    // Bundles from before refreshHeadroom had no room past maxCoresetSize; they get the default now.
    const ceiling = Math.floor(m.config.memory.maxCoresetSize * (1 + (m.config.memory.refreshHeadroom ?? 0.25)));
    const headroom = Math.max(0, ceiling - m.memory.coresetSize);
    // A bank whose rows' classes are known is consolidated back to the ceiling after the additions; one without can only grow to it.
    const rowClasses = rowClassesOf(model.bundle);
    if (headroom === 0 && !rowClasses) ctx.log.warn({ coresetSize: m.memory.coresetSize, ceiling }, "refresh: the bank is at its ceiling (memory.maxCoresetSize × (1 + memory.refreshHeadroom)) and, fitted before row classes were stored, cannot be consolidated; nothing can be added until a refit or a larger refreshHeadroom");
    const requested = numberOption(ctx.options, "maxAdditions", { min: 0, max: 1e7, integer: true }) ?? Math.max(1, Math.ceil(0.25 * m.memory.coresetSize));
    const maxAdditions = rowClasses ? requested : Math.min(requested, headroom);
    // Each phase reports its own counts under its own name: one unit across phases would mislead.
    ctx.log.info({ parent: m.version, accepted: ctx.accepted.length, maxAdditions, holdoutFraction }, "refresh: start");

    // 1. Features of the accepted frames.
    const { learn, holdout, skipped, dataSnapshot, untagged } = await acceptedFeatures(model, ctx, { job: "refresh", what: "memory-bank refresh", holdoutFraction, learnUse: "bank" });
    // The class means take in the tagged frames the bank learns from (a new product's tag gets its own mean); an untagged frame's class is only a reading.
    const stored = storedClassMeans(model.bundle);
    // Each learnt frame's look, taken once: its class's mean (tagged frames) and its reach (step 6) both read it.
    const learnMeans = learn.map((it) => frameMean(it.map));
    const classMeans = stored ? withFrameMeans(stored, learn.flatMap((it, i) => (it.frame.classTag !== undefined ? [{ cls: it.frame.classTag, mean: learnMeans[i]! }] : []))) : undefined;
    lap("features");

    // 2. Candidate slices and their distance to the bank, in the selection's space.
    throwIfCancelled(ctx.signal, "memory-bank refresh");
    const space = await coverageSpace(model.bundle, model.coreset, model.sessionOptions);
    if (space.source !== "manifest") ctx.log.warn({ radius: space.radius }, "refresh: the bundle predates stored coverage; projection re-derived from the config seed, radius estimated from the bank (closest pair)");
    const hw = h * w;
    const { rows, n, points, d } = sliceRowsWith(learn.map((it) => it.map), c, hw, space.projection);
    const bankPoints = projectRowsWith(model.coreset, m.memory.coresetSize, c, space.projection).points;
    const minDist = await nearestBankDistances(bankPoints, m.memory.coresetSize, points, n, d, model.sessionOptions);
    // Each class's own covering radius, from fit's held-out normals (read here once; they calibrate the thresholds in step 6).
    const base = await baseHoldoutMaps(model, ctx.signal, (done, total) => ctx.progress(done, total, "refresh: features of fit's held-out normals"));
    if (base.missing > 0) ctx.log.warn({ missing: base.missing, listed: base.listed, dataset: m.provenance.dataset }, "refresh: some of fit's held-out files could not be read; calibrating without them");
    const farthest = await farthestSliceDistances(base.maps, { points: bankPoints, size: m.memory.coresetSize }, space.projection, model.sessionOptions);
    const referenceRadii = classReferenceRadii(farthest, base.classes);
    const radii = candidateRadii(coverage === "class" ? learn.map(judgedClassOf) : learn.map(() => undefined), hw, referenceRadii, space.radius);
    let beyond = 0;
    for (let i = 0; i < n; i++) if (minDist[i]! > radii[i]! * radii[i]!) beyond++;
    lap("distances");

    // 3. Continue greedy k-center.
    const sel = continueKCenter(points, n, d, minDist, {
      radius: space.radius,
      radii,
      maxAdditions,
      signal: ctx.signal,
      onProgress: (added) => {
        if (added % 32 === 0) ctx.progress(added, maxAdditions, "refresh: coreset additions (at most)");
      },
    });
    const added = sel.added.length;
    ctx.log.info({ candidates: n, beyondRadius: beyond, added, stoppedBy: sel.stoppedBy, radius: space.radius, referenceRadii, uncovered: sel.uncoveredRadius }, "refresh: selection done");

    // 4. The new bank and its index: old rows, then the added ones; past the ceiling, consolidated back to it.
    throwIfCancelled(ctx.signal, "memory-bank refresh");
    const bank = await growBank({
      bank: model.coreset, bankPoints, bankSize: m.memory.coresetSize, c, d, rows, points, added: sel.added,
      addedTags: Array.from(sel.added, (r) => learn[Math.floor(r / hw)]!.frame.classTag),
      rowClasses, ceiling, signal: ctx.signal,
    });
    const { coreset, size, consolidation } = bank;
    if (consolidation) ctx.log.info({ grown: m.memory.coresetSize + added, ceiling, dropped: consolidation.dropped, addedKept: consolidation.addedKept }, "refresh: bank consolidated back to its ceiling, each class keeping its share");
    const index = FaissIndex.build(coreset, size, c, m.memory.indexType);
    lap("selection");

    // 5. The context bank: its own rows, grown from the frames of its classes: tagged so, or untagged and served by its context search.
    const contextRows = contextBankOf(model.bundle);
    const cb = m.memory.contextBank;
    let grownContext: GrownContextBank | undefined;
    if (contextRows && cb && bank.rowClasses) {
      throwIfCancelled(ctx.signal, "memory-bank refresh");
      grownContext = await growContextBank({
        bank: contextRows, lambda: cb.lambda, coverageRadius: cb.coverageRadius, seed: space.seed, projectionDim: space.dim,
        classNames: bank.rowClasses.names, frames: learn.map((it) => ({ map: it.map, classTag: it.frame.classTag ?? it.reading?.contextClass })),
        maxAdditions: Math.max(1, Math.ceil(0.25 * cb.fitSize)), ceiling: Math.floor(cb.fitSize * (1 + (m.config.memory.refreshHeadroom ?? 0.25))),
        sessionOptions: model.sessionOptions, signal: ctx.signal,
      });
      ctx.log.info({ frames: grownContext.frames, candidates: grownContext.candidates, added: grownContext.added, size: grownContext.bank.size, stoppedBy: grownContext.stoppedBy }, "refresh: context bank grown from the accepted frames of its classes");
      const con = grownContext.consolidation;
      if (con) ctx.log.info({ ceiling: con.ceiling, dropped: con.dropped, addedKept: con.addedKept }, "refresh: context bank consolidated back to its ceiling, each class keeping its share");
      lap("context");
    }

    // 6. Thresholds.
    const holdoutMaps = [...base.maps, ...holdout.map((it) => it.map)];
    const holdoutClasses = [...base.classes, ...holdout.map(judgedClassOf)];
    const hasDenoiser = m.scoring.denoiserFile !== undefined;
    const parts = { coreset, coresetSize: size, c, ...(hasDenoiser ? { unetOnnx: model.bundle.file(m.scoring.denoiserFile!) } : {}), ...(bank.rowClasses ? { rowClasses: bank.rowClasses } : {}), ...(classMeans ? { classMeans } : {}), ...(grownContext ? { contextBank: grownContext.bank } : {}) };
    const { thresholds, detail, context, edges, sizes, profiles } = await calibrateThresholds(model, parts, holdoutMaps, modesOf(model, hasDenoiser), {
      signal: ctx.signal,
      classes: holdoutClasses,
      onProgress: (done, total) => ctx.progress(done, total, "refresh: threshold calibration (images × modes)"),
    });
    // The look-alike classes, measured again on the held-out frames whose class is known (tagged, or read).
    const known = holdoutClasses.flatMap((cls, i) => (cls !== undefined ? [{ cls, map: holdoutMaps[i]! }] : []));
    const knownClasses = known.map((k) => k.cls);
    // Each class's reach measured again from its moved mean, never narrower than before: the frames it learned from
    // (a tagged one is in its class's mean) and the held-out ones, so a frame accepted as normal passes the look gate.
    const reachFrames = [
      ...learn.flatMap((it, i) => {
        const cls = judgedClassOf(it);
        return cls !== undefined ? [{ cls, mean: learnMeans[i]!, inMean: it.frame.classTag !== undefined, light: it.map.light }] : [];
      }),
      ...known.map((k) => ({ cls: k.cls, mean: frameMean(k.map), inMean: false, light: k.map.light })),
    ];
    const servedMeans = classMeans ? withReach(withAlike(classMeans, misreadings(classMeans, known.map((k) => k.map), knownClasses), knownClasses), reachFrames) : undefined;
    // What an operator audits: the reaches that moved (an accepted frame far from its class widens it a lot).
    const reaches = servedMeans && stored ? reachChanges(stored, servedMeans) : {};
    for (const [cls, r] of Object.entries(reaches)) {
      if (r.before !== null && r.after > WIDE_REACH_GROWTH * r.before) ctx.log.warn({ class: cls, ...r }, `refresh: ${cls}'s reach (the look gate) grew over ${WIDE_REACH_GROWTH}×: some frame accepted or held out for it lies far from its look; check its accepted frames (an empty station or another product accepted as normal would pass the gate now)`);
    }
    if (Object.keys(reaches).length > 0) ctx.log.info({ reaches }, "refresh: class reaches (the look gate) widened");
    // Likewise the light ranges: a frame accepted under a failed lamp would let the next one pass.
    const lights = servedMeans && stored ? lightChanges(stored, servedMeans) : {};
    for (const [cls, r] of Object.entries(lights)) {
      if (r.before !== null && lightGrowth(r.before, r.after) > WIDE_REACH_GROWTH) ctx.log.warn({ class: cls, ...r }, `refresh: ${cls}'s light range (the look gate) grew over ${WIDE_REACH_GROWTH}× in some channel: some frame accepted or held out for it was lit far from its normals; check its accepted frames (one shot under a failed lamp accepted as normal would let the next pass)`);
    }
    if (Object.keys(lights).length > 0) ctx.log.info({ lights }, "refresh: class light ranges (the look gate) widened");
    lap("threshold");

    // 7. The candidate.
    throwIfCancelled(ctx.signal, "memory-bank refresh");
    const vectors = float32Bytes(coreset);
    const createdAt = new Date();
    const refresh = {
      acceptedFrames: ctx.accepted.length,
      bankFrames: learn.length,
      holdoutFrames: holdout.length,
      skippedFrames: skipped.length,
      ...(untagged.frames > 0 ? { untagged } : {}),
      candidateSlices: n,
      slicesBeyondRadius: beyond,
      added,
      maxAdditions,
      bankCeiling: ceiling,
      ...(consolidation ? { consolidation } : {}),
      ...(grownContext ? { contextBank: { frames: grownContext.frames, candidates: grownContext.candidates, added: grownContext.added, size: grownContext.bank.size, stoppedBy: grownContext.stoppedBy, ...(grownContext.consolidation ? { consolidation: grownContext.consolidation } : {}) } } : {}),
      stoppedBy: sel.stoppedBy,
      ...(Object.keys(reaches).length > 0 ? { reaches } : {}),
      ...(Object.keys(lights).length > 0 ? { lights } : {}),
      coverage,
      coverageRadius: space.radius,
      coverageRadiusSource: space.source,
      // Each class's radius before fit's cap (a class whose held-out normals lie farther than fit's radius is held to fit's).
      classRadii: Object.fromEntries(Object.entries(referenceRadii).map(([cls, r]) => [cls, Math.round(r * 1000) / 1000])),
      uncoveredRadius: sel.uncoveredRadius,
      holdoutImages: { fit: base.maps.length, accepted: holdout.length },
      timings,
    };
    const manifest: Omit<BundleManifest, "files" | "format" | "formatVersion"> = {
      ...withoutFiles(m),
      version: bundleVersion(createdAt, vectors),
      createdAt: createdAt.toISOString(),
      memory: {
        ...m.memory,
        coresetSize: size,
        // The radius stays fit's target: a capped run leaves slices beyond it, which the next refresh picks up.
        coverageRadius: space.radius,
        projection: { seed: space.seed, dim: space.dim, ...(space.projection ? { file: "coreset-projection.f32" } : {}) },
        ...(bank.rowClasses && m.memory.rowClasses ? { rowClasses: { file: m.memory.rowClasses.file, names: bank.rowClasses.names } } : {}),
        ...(servedMeans ? { classMeans: servedMeans } : {}),
        ...(grownContext && cb ? { contextBank: { ...cb, size: grownContext.bank.size } } : {}),
      },
      // The detail bank is the new rows' fine channels, the context bank grew: their normalizers, measured again on the new banks.
      ...(detail || edges || sizes || profiles ? { scoring: { ...m.scoring, ...(detail ? { detail } : {}), ...(context ? { context } : {}), ...(edges ? { edges } : {}), ...(sizes ? { sizes } : {}), ...(profiles ? { profiles } : {}) } } : {}),
      threshold: thresholds[m.scoring.mode] ?? m.threshold,
      thresholds,
      metrics: { ...m.metrics, refresh },
      parentVersion: m.version,
      dataSnapshot,
    };
    const written = await writeCandidate(ctx.outDir, m, (name) => model.bundle.file(name), manifest, {
      [m.memory.vectorsFile]: vectors,
      [m.memory.indexFile]: new Uint8Array(index.toBuffer()),
      ...(space.projection ? { "coreset-projection.f32": float32Bytes(space.projection) } : {}),
      ...(bank.rowClasses && m.memory.rowClasses ? { [m.memory.rowClasses.file]: int32Bytes(bank.rowClasses.classes) } : {}),
      ...(grownContext && cb ? { [cb.file]: float32Bytes(grownContext.bank.rows), [cb.classesFile]: int32Bytes(grownContext.bank.classes) } : {}),
    }, intraOpThreads);
    lap("write");
    ctx.log.info({ version: written.version, coresetSize: size, added }, "refresh: candidate written");
    return {
      summary: {
        version: written.version,
        parentVersion: m.version,
        coresetSize: { before: m.memory.coresetSize, after: size },
        ...refresh,
        thresholds: Object.fromEntries(Object.entries(thresholds).map(([k, v]) => [k, v.value])),
        skipped,
        seconds: (performance.now() - started) / 1000,
      },
    };
  } finally {
    await model.release();
  }
};

/** A reach that grows more than this in one refresh is worth a look at the frames that widened it. */
const WIDE_REACH_GROWTH = 1.5;
