/**
 * What the promotion gate measured of one model version, kept by the daemon
 * from one job to the next. A version never changes and scoring is
 * deterministic (a frame's noise seed is a hash of its own features), so the
 * active model's scores of the images it was judged on last time still hold:
 * the next gate scores only what is new to it (the accepted frames held out
 * since, a new confirmed defect, a changed file, the pseudo-validation
 * samples of new normals). After a promotion the new active model is the
 * last candidate, whose scores the last gate took.
 *
 * Kept in the daemon's memory only, never on disk: a daemon upgraded in
 * place restarts, so a memo can never outlive the code that scored it.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import type { PseudoSample } from "../image/pseudo/index.js";

/** One gate image as a model judged it: its score and the threshold it was judged by (its class's, or the model's). */
export interface JudgedImage {
  readonly score: number;
  readonly threshold: number;
}

export interface GateMemo {
  readonly version: string;
  /** The model's threshold (GateDecision details). */
  readonly threshold: number;
  /** Gate images (held-out and accepted normals, confirmed defects) by imageKey. */
  readonly images: Readonly<Record<string, JudgedImage>>;
  /** Synthesized pseudo-validation samples' image scores by sampleKey. */
  readonly samples: Readonly<Record<string, number>>;
}

/**
 * A gate image's identity: its path, size and modification time. The ledger's images never change once stored;
 * a held-out training image replaced under the same name gets a new key and is scored again.
 */
export async function imageKey(path: string): Promise<string> {
  const st = await stat(path);
  return `${path}\u0000${st.size}\u0000${st.mtimeMs}`;
}

/**
 * A synthesized sample's identity: a hash of its pixels (a sample's image score depends on nothing else). The set is
 * synthesized again for every gate, from the same recipe and seed; a class whose normals did not change gives the
 * same samples, and a sample that differs in any pixel is scored again.
 */
export function sampleKey(s: Pick<PseudoSample, "image">): string {
  const { width, height, gray, rgb } = s.image;
  return createHash("sha256").update(`${width}x${height}${gray ? " gray" : ""}\u0000`).update(rgb).digest("hex");
}
