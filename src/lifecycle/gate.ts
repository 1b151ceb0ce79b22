/**
 * The promotion gate: a candidate replaces the active model only if, on the
 * same data,
 *   1. its false-alarm rate on held-out normals is no higher — old normals
 *      (the bundles' held-out training images, manifest.provenance.holdoutFiles
 *      relative to provenance.dataset) and new ones (the ledger's held-out
 *      share of accepted frames);
 *   2. its image AUROC on the pseudo-validation set is no lower, within a
 *      tolerance (skipped, and recorded so, when no set is configured);
 *   3. it detects every confirmed defect the active model detects.
 * Each model is judged at its own threshold. The decision carries every
 * number, so ListModels can show why.
 *
 * A model's scores from an earlier gate (GateMemo, gate-memo.ts) are taken
 * as they are: only images and samples new to it are scored, and a model
 * with nothing new to score is not even loaded.
 */
import { readFile, access } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { BundleManifest } from "../model/bundle.js";
import type { BundleScorerFactory } from "./job-body.js";
import type { PseudoValidationAuroc } from "./pseudo-validation.js";
import type { GateDecision } from "./registry.js";
import { imageKey, type GateMemo, type JudgedImage } from "./gate-memo.js";
import { throwIfCancelled } from "../util/progress.js";

export interface GateImage {
  readonly path: string;
  /** Ledger id, or the bundle-relative path for old normals. */
  readonly ref: string;
}

export interface GateInput {
  readonly activeDir: string;
  readonly candidateDir: string;
  /** The ledger's held-out accepted normals. */
  readonly acceptedHoldout: readonly GateImage[];
  /** Confirmed defects. */
  readonly defects: readonly GateImage[];
  readonly aurocTolerance: number;
  readonly scorer: BundleScorerFactory;
  readonly pseudoValidationAuroc: PseudoValidationAuroc | null;
  readonly intraOpThreads?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  /** What earlier gates measured of these models (by version; others are ignored). */
  readonly memos?: readonly GateMemo[];
}

/** The decision, and what the gate now knows of each model (the memos given, extended by what it scored). */
export interface GateOutcome {
  readonly decision: GateDecision;
  readonly memos: readonly GateMemo[];
}

/** A bundle's version, and its held-out training images that still exist on this box. */
export async function bundleHoldoutImages(bundleDir: string): Promise<{ version: string; images: GateImage[]; missing: number }> {
  const manifest = JSON.parse(await readFile(join(bundleDir, "manifest.json"), "utf8")) as BundleManifest;
  const p = manifest.provenance;
  const images: GateImage[] = [];
  let missing = 0;
  for (const rel of p?.holdoutFiles ?? []) {
    const path = isAbsolute(rel) ? rel : join(p.dataset, rel);
    if (await access(path).then(() => true, () => false)) images.push({ path, ref: rel });
    else missing++;
  }
  return { version: manifest.version, images, missing };
}

interface ModelScores {
  readonly version: string;
  readonly threshold: number;
  readonly falseAlarms: string[];
  readonly detected: Set<string>;
  readonly auroc: number | null;
  /** How many images and samples were scored anew (the rest came from the model's memo). */
  readonly scored: { readonly images: number; readonly samples: number };
}

/** A keyed gate image. */
interface KeyedImage extends GateImage {
  readonly key: string;
}

/**
 * Every image as the model at `dir` judges it (at the threshold the daemon would judge it by: its class's, with
 * per-class thresholds): from `memo` where it holds the image, else scored, the model loaded only if one is missing.
 * Only these images: one that left the gate (a frame the ledger dropped) leaves the memo too.
 */
async function judgeImages(input: GateInput, dir: string, images: readonly KeyedImage[], memo: GateMemo | undefined): Promise<{ version: string; threshold: number; images: Record<string, JudgedImage>; scored: number }> {
  const fresh = images.filter((img) => memo?.images[img.key] === undefined);
  const judged: Record<string, JudgedImage> = {};
  const of = ({ version, threshold }: { version: string; threshold: number }) => ({ version, threshold, images: Object.fromEntries(images.map((img) => [img.key, memo?.images[img.key] ?? judged[img.key]!])), scored: fresh.length });
  if (memo && fresh.length === 0) return of(memo);
  const scorer = await input.scorer(dir, input.intraOpThreads ? { intraOpThreads: input.intraOpThreads } : {});
  try {
    for (const img of fresh) {
      throwIfCancelled(input.signal, "promotion gate");
      const r = await scorer.score(await readFile(img.path));
      judged[img.key] = { score: r.score, threshold: r.threshold };
    }
    return of(scorer);
  } finally {
    await scorer.close();
  }
}

export async function runGate(input: GateInput): Promise<GateOutcome> {
  const now = input.now ?? (() => new Date());
  const [a, c] = await Promise.all([bundleHoldoutImages(input.activeDir), bundleHoldoutImages(input.candidateDir)]);
  const oldNormals = new Map<string, GateImage>();
  for (const img of [...a.images, ...c.images]) oldNormals.set(img.path, img);
  const keyed = (imgs: readonly GateImage[]) => Promise.all(imgs.map(async (img) => ({ ...img, key: await imageKey(img.path) })));
  const normals = await keyed([...oldNormals.values(), ...input.acceptedHoldout.map((x) => ({ path: x.path, ref: `accepted:${x.ref}` }))]);
  const defects = await keyed(input.defects.map((d) => ({ path: d.path, ref: `defect:${d.ref}` })));

  const scores: ModelScores[] = [];
  const memos: GateMemo[] = [];
  let aurocSkipped: string | undefined = input.pseudoValidationAuroc ? undefined : "no pseudo-validation set";
  for (const [dir, version] of [[input.activeDir, a.version], [input.candidateDir, c.version]] as const) {
    const known = input.memos?.find((m) => m.version === version);
    const judged = await judgeImages(input, dir, [...normals, ...defects], known);
    const flagged = (img: KeyedImage) => {
      const j = judged.images[img.key]!;
      return j.score > j.threshold;
    };
    let auroc: number | null = null;
    const knownSamples = known?.samples ?? {};
    let samples: { readonly scores: Readonly<Record<string, number>>; readonly anew: number } | undefined;
    if (input.pseudoValidationAuroc && aurocSkipped === undefined) {
      try {
        const r = await input.pseudoValidationAuroc(dir, knownSamples);
        auroc = r.auroc;
        samples = { scores: r.samples, anew: Object.keys(r.samples).filter((k) => knownSamples[k] === undefined).length };
      } catch (err) {
        if ((err as { code?: string }).code === "CANCELLED") throw err;
        aurocSkipped = (err as Error).message; // e.g. the original data set moved: the other checks still decide
      }
    }
    // What this gate judged, and no more (pseudoValidationAuroc returns this set's samples only): images and samples
    // that left the gate would otherwise pile up in the memo of a model that stays active for months.
    memos.push({ version: judged.version, threshold: judged.threshold, images: judged.images, samples: samples?.scores ?? knownSamples });
    scores.push({
      version: judged.version,
      threshold: judged.threshold,
      falseAlarms: normals.filter(flagged).map((n) => n.ref),
      detected: new Set(defects.filter(flagged).map((d) => d.ref)),
      auroc,
      scored: { images: judged.scored, samples: samples?.anew ?? 0 },
    });
  }
  const [act, cand] = scores as [ModelScores, ModelScores];
  const n = normals.length;
  const checks: string[] = [];
  let passed = true;

  const farOk = cand.falseAlarms.length <= act.falseAlarms.length;
  passed &&= farOk;
  checks.push(`false alarms on ${n} held-out normals (${oldNormals.size} old, ${input.acceptedHoldout.length} accepted): candidate ${cand.falseAlarms.length}, active ${act.falseAlarms.length}: ${farOk ? "ok" : "FAIL (higher)"}`);

  if (act.auroc === null || cand.auroc === null) {
    checks.push(`pseudo-validation image AUROC: skipped (${aurocSkipped ?? "not computed"})`);
  } else {
    const ok = cand.auroc >= act.auroc - input.aurocTolerance;
    passed &&= ok;
    checks.push(`pseudo-validation image AUROC: candidate ${cand.auroc.toFixed(4)}, active ${act.auroc.toFixed(4)}, tolerance ${input.aurocTolerance}: ${ok ? "ok" : "FAIL (lower)"}`);
  }

  const lost = [...act.detected].filter((d) => !cand.detected.has(d));
  passed &&= lost.length === 0;
  checks.push(`confirmed defects: active detects ${act.detected.size}/${defects.length}, candidate ${cand.detected.size}/${defects.length}${lost.length ? `, misses ${lost.join(", ")}: FAIL` : ": ok"}`);

  const decision: GateDecision = {
    passed,
    checks,
    details: {
      normals: { old: oldNormals.size, accepted: input.acceptedHoldout.length, missingOld: a.missing + c.missing },
      defects: defects.length,
      active: { version: act.version, threshold: act.threshold, falseAlarms: act.falseAlarms.length, falseAlarmRate: n ? act.falseAlarms.length / n : 0, auroc: act.auroc, detectedDefects: [...act.detected], scoredAnew: act.scored },
      candidate: { version: cand.version, threshold: cand.threshold, falseAlarms: cand.falseAlarms.length, falseAlarmRate: n ? cand.falseAlarms.length / n : 0, auroc: cand.auroc, detectedDefects: [...cand.detected], scoredAnew: cand.scored },
      aurocTolerance: input.aurocTolerance,
      missedDefects: lost,
    },
    decidedAt: now().toISOString(),
  };
  return { decision, memos };
}
