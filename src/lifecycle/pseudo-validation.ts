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
 * when configured (scored whole by every gate: its samples are not memoized).
 */
import type { PseudoSample, PseudoClass } from "../image/pseudo/index.js";
import { frameFitOf } from "../image/geometry.js";
import { sampleKey } from "./gate-memo.js";

/** A model's pseudo-validation image AUROC, and its scores of the synthesized samples by sampleKey (none for a labelled folder). */
export interface PseudoValidationResult {
  readonly auroc: number;
  readonly samples: Readonly<Record<string, number>>;
}

/**
 * A bundle's pseudo-validation image AUROC. `known`: the bundle's scores of samples it was scored on before (a
 * GateMemo's): those samples are not scored again.
 */
export type PseudoValidationAuroc = (bundleDir: string, known?: Readonly<Record<string, number>>) => Promise<PseudoValidationResult>;

export interface PseudoReference {
  /** The active bundle: its held-out images and tuning recipe define the set. */
  readonly activeDir: string;
  /** Accepted frames held out of training (new normals). */
  readonly acceptedNormals: readonly { readonly path: string }[];
}

export function makePseudoValidationAuroc(data: string | null, reference: PseudoReference, options: { intraOpThreads?: number; signal?: AbortSignal } = {}): PseudoValidationAuroc {
  if (data !== null) return labelledSetAuroc(data, options);
  let samples: Promise<KeyedSample[]> | undefined;
  return async (bundleDir, known = {}) => {
    samples ??= synthesizedSet(reference, options.signal).then((set) => set.map((sample) => ({ sample, key: sampleKey(sample) })));
    return scoreOnSamples(bundleDir, await samples, known, options);
  };
}

interface KeyedSample {
  readonly sample: PseudoSample;
  readonly key: string;
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

/**
 * Mean per-class image AUROC of a bundle, in its own mode and settings, on given samples; those in `known` (by key)
 * keep their score, the others are scored (and the bundle opened) only if there are any.
 */
async function scoreOnSamples(bundleDir: string, samples: readonly KeyedSample[], known: Readonly<Record<string, number>>, options: { intraOpThreads?: number; signal?: AbortSignal }): Promise<PseudoValidationResult> {
  const { meanClassAuroc } = await import("../pipeline/tune/score-set.js");
  const fresh = samples.filter((s) => known[s.key] === undefined);
  const scored = fresh.length > 0 ? await scoreSamples(bundleDir, fresh.map((s) => s.sample), options) : [];
  const scores: Record<string, number> = {};
  fresh.forEach((s, i) => (scores[s.key] = scored[i]!));
  const all = samples.map((s) => known[s.key] ?? scores[s.key]!);
  const auroc = meanClassAuroc(samples.map((s) => ({ cls: s.sample.cls, anomalous: s.sample.kind === "pseudo" })), all);
  if (auroc === null) throw new Error("the pseudo-validation set gives no image AUROC (no class has both normal and synthesized images)");
  // Only the samples of this set: a memo of an older set's samples would otherwise grow with every gate.
  return { auroc, samples: Object.fromEntries(samples.map((s, i) => [s.key, all[i]!])) };
}

/** Each sample's image score by a bundle, in its own mode and settings. */
async function scoreSamples(bundleDir: string, samples: readonly PseudoSample[], options: { intraOpThreads?: number; signal?: AbortSignal }): Promise<readonly number[]> {
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
    return (await scorePseudoSet(set, opened.scorer, options.signal ? { signal: options.signal } : {})).scores;
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
      return { auroc: report.mean.image_auroc, samples: {} };
    } finally {
      await detector.close();
    }
  };
}
