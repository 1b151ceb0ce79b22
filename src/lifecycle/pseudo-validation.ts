/**
 * The promotion gate's "image AUROC on the pseudo-validation set" (paper
 * 3.4): anomalies synthesized from normal images the models never learned
 * from, scored by the active model and the candidate on the same samples.
 *
 * The set is built once per gate from the ACTIVE bundle's held-out training
 * images (manifest provenance.holdoutFiles under provenance.dataset) plus the
 * accepted frames held out for the gate, with the active config's tuning
 * seed, so a candidate is judged on the old normals and the new ones alike.
 * A labelled MVTec-layout folder (promotion.pseudoValidationData) replaces it
 * when configured.
 */
import type { PseudoSample, PseudoClass } from "../image/pseudo/index.js";
import { frameFitOf } from "../image/geometry.js";

export type PseudoValidationAuroc = (bundleDir: string) => Promise<number>;

export interface PseudoReference {
  /** The active bundle: its held-out images and tuning recipe define the set. */
  readonly activeDir: string;
  /** Accepted frames held out of training (new normals). */
  readonly acceptedNormals: readonly { readonly path: string }[];
}

export function makePseudoValidationAuroc(data: string | null, reference: PseudoReference, options: { intraOpThreads?: number; signal?: AbortSignal } = {}): PseudoValidationAuroc {
  if (data !== null) return labelledSetAuroc(data, options);
  let samples: Promise<PseudoSample[]> | undefined;
  return async (bundleDir) => {
    samples ??= synthesizedSet(reference, options.signal);
    return scoreOnSamples(bundleDir, await samples, options);
  };
}

async function synthesizedSet(reference: PseudoReference, signal: AbortSignal | undefined): Promise<PseudoSample[]> {
  const { readBundle } = await import("../model/bundle.js");
  const { parseModelConfig, pseudoRecipe } = await import("../model/model-config.js");
  const { holdoutClasses, pseudoSamples } = await import("../image/pseudo/index.js");
  const m = (await readBundle(reference.activeDir)).manifest;
  const tc = parseModelConfig(m.config).tuning;
  const classes: PseudoClass[] = holdoutClasses(m.provenance.holdoutFiles, m.provenance.dataset);
  // New normals form their own class: their look may differ from every trained class (drift, a new product).
  if (reference.acceptedNormals.length > 0) classes.push({ name: "accepted", images: reference.acceptedNormals.map((a) => a.path) });
  const out: PseudoSample[] = [];
  for await (const s of pseudoSamples(classes, { ...pseudoRecipe(tc), ...(signal ? { signal } : {}) })) out.push(s);
  return out;
}

/** Mean per-class image AUROC of a bundle, in its own mode and settings, on given samples. */
async function scoreOnSamples(bundleDir: string, samples: readonly PseudoSample[], options: { intraOpThreads?: number; signal?: AbortSignal }): Promise<number> {
  const { readBundle } = await import("../model/bundle.js");
  const { BackboneRunner, sessionOptions } = await import("../model/backbone-runner.js");
  const { extractPseudoFeatures } = await import("../pipeline/tune/pseudo-features.js");
  const { scorePseudoSet } = await import("../pipeline/tune/score-set.js");
  const { scorerPartsOf } = await import("../pipeline/tune/tune-bundle.js");
  const { openScorer, scorerSettingsOf } = await import("../pipeline/open-scorer.js");
  const loaded = await readBundle(bundleDir);
  const m = loaded.manifest;
  const sess = sessionOptions("cpu", options.intraOpThreads);
  const backbone = await BackboneRunner.open(loaded.file(m.backbone.file), m.backbone.inputSize, sess, frameFitOf(m.backbone));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  let set;
  try {
    set = await extractPseudoFeatures((async function* () { yield* samples; })(), backbone, stats, options.signal ? { signal: options.signal } : {});
  } finally {
    await backbone.release();
  }
  const sc = m.scoring;
  const opened = await openScorer(sc.mode, scorerPartsOf(loaded), scorerSettingsOf(m), sess);
  try {
    const r = await scorePseudoSet(set, opened.scorer, options.signal ? { signal: options.signal } : {});
    if (r.imageAuroc === null) throw new Error("the pseudo-validation set gives no image AUROC (no class has both normal and synthesized images)");
    return r.imageAuroc;
  } finally {
    await opened.release();
  }
}

/** A labelled MVTec-layout folder scored with evaluate(): its test/ images and their labels. */
function labelledSetAuroc(data: string, options: { intraOpThreads?: number; signal?: AbortSignal }): PseudoValidationAuroc {
  return async (bundleDir) => {
    const { loadDetector } = await import("../pipeline/load.js");
    const { evaluate } = await import("../eval/evaluate.js");
    const detector = await loadDetector(bundleDir, options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {});
    try {
      const report = await evaluate(detector, { data, log: () => {}, progressSink: () => {}, ...(options.signal ? { signal: options.signal } : {}) });
      if (report.mean.image_auroc === null) throw new Error(`validation set ${data} gives no image AUROC (it needs normal and anomalous test images)`);
      return report.mean.image_auroc;
    } finally {
      await detector.close();
    }
  };
}
