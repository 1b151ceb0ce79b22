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
 */
import { readFile, access } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import type { BundleManifest } from "../model/bundle.js";
import type { BundleScorer, BundleScorerFactory } from "./job-body.js";
import type { PseudoValidationAuroc } from "./pseudo-validation.js";
import type { GateDecision } from "./registry.js";
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
}

/** A bundle's held-out training images that still exist on this box. */
export async function bundleHoldoutImages(bundleDir: string): Promise<{ images: GateImage[]; missing: number }> {
  const manifest = JSON.parse(await readFile(join(bundleDir, "manifest.json"), "utf8")) as BundleManifest;
  const p = manifest.provenance;
  const images: GateImage[] = [];
  let missing = 0;
  for (const rel of p?.holdoutFiles ?? []) {
    const path = isAbsolute(rel) ? rel : join(p.dataset, rel);
    if (await access(path).then(() => true, () => false)) images.push({ path, ref: rel });
    else missing++;
  }
  return { images, missing };
}

interface ModelScores {
  readonly version: string;
  readonly threshold: number;
  readonly falseAlarms: string[];
  readonly detected: Set<string>;
  readonly auroc: number | null;
}

async function scoreModel(scorer: BundleScorer, normals: readonly GateImage[], defects: readonly GateImage[], signal?: AbortSignal): Promise<Omit<ModelScores, "auroc">> {
  const falseAlarms: string[] = [];
  const detected = new Set<string>();
  // Each image at the threshold the daemon would judge it by (its class's, with per-class thresholds).
  const flagged = async (path: string) => {
    const r = await scorer.score(await readFile(path));
    return r.score > r.threshold;
  };
  for (const n of normals) {
    throwIfCancelled(signal, "promotion gate");
    if (await flagged(n.path)) falseAlarms.push(n.ref);
  }
  for (const d of defects) {
    throwIfCancelled(signal, "promotion gate");
    if (await flagged(d.path)) detected.add(d.ref);
  }
  return { version: scorer.version, threshold: scorer.threshold, falseAlarms, detected };
}

export async function runGate(input: GateInput): Promise<GateDecision> {
  const now = input.now ?? (() => new Date());
  const [a, c] = await Promise.all([bundleHoldoutImages(input.activeDir), bundleHoldoutImages(input.candidateDir)]);
  const oldNormals = new Map<string, GateImage>();
  for (const img of [...a.images, ...c.images]) oldNormals.set(img.path, img);
  const normals = [...oldNormals.values(), ...input.acceptedHoldout.map((x) => ({ path: x.path, ref: `accepted:${x.ref}` }))];
  const defects = input.defects.map((d) => ({ path: d.path, ref: `defect:${d.ref}` }));

  const scores: ModelScores[] = [];
  let aurocSkipped: string | undefined = input.pseudoValidationAuroc ? undefined : "no pseudo-validation set";
  for (const dir of [input.activeDir, input.candidateDir]) {
    const scorer = await input.scorer(dir, input.intraOpThreads ? { intraOpThreads: input.intraOpThreads } : {});
    try {
      const s = await scoreModel(scorer, normals, defects, input.signal);
      let auroc: number | null = null;
      if (input.pseudoValidationAuroc && aurocSkipped === undefined) {
        try {
          auroc = await input.pseudoValidationAuroc(dir);
        } catch (err) {
          if ((err as { code?: string }).code === "CANCELLED") throw err;
          aurocSkipped = (err as Error).message; // e.g. the original data set moved: the other checks still decide
        }
      }
      scores.push({ ...s, auroc });
    } finally {
      await scorer.close();
    }
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

  return {
    passed,
    checks,
    details: {
      normals: { old: oldNormals.size, accepted: input.acceptedHoldout.length, missingOld: a.missing + c.missing },
      defects: defects.length,
      active: { version: act.version, threshold: act.threshold, falseAlarms: act.falseAlarms.length, falseAlarmRate: n ? act.falseAlarms.length / n : 0, auroc: act.auroc, detectedDefects: [...act.detected] },
      candidate: { version: cand.version, threshold: cand.threshold, falseAlarms: cand.falseAlarms.length, falseAlarmRate: n ? cand.falseAlarms.length / n : 0, auroc: cand.auroc, detectedDefects: [...cand.detected] },
      aurocTolerance: input.aurocTolerance,
      missedDefects: lost,
    },
    decidedAt: now().toISOString(),
  };
}
