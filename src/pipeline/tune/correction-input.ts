/**
 * What the per-class corrections (the size trends, the edge profiles, the
 * position profiles) are chosen on at fit and tune (the pseudo-validation set
 * at the final settings), and what a lifecycle re-measure of them is given
 * (a model's held-out normals and the parts and settings it will serve them
 * with).
 */
import type * as ort from "onnxruntime-node";
import type { FeatureMap } from "../../model/types.js";
import type { ScorerParts, ScorerSettings } from "../open-scorer.js";
import type { ScoringMode } from "../../model/types.js";
import type { Progress } from "../../util/progress.js";

/** Tuning's input: frames of the set (`F`: at least class, label and features) scored in `mode`. */
export interface TuneCorrectionInput<F> {
  readonly set: readonly F[];
  readonly parts: ScorerParts;
  /** The final settings, detail and context banks included; a correction is measured without itself. */
  readonly settings: ScorerSettings;
  readonly mode: ScoringMode;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
}

export interface RemeasureInput {
  readonly maps: readonly FeatureMap[];
  /** Each map's class, where known (an untagged accepted frame: undefined, not used). */
  readonly classes: readonly (string | undefined)[];
  readonly parts: ScorerParts;
  /** The settings the model serves with; a re-measure leaves out the correction it measures. */
  readonly settings: ScorerSettings;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  readonly signal?: AbortSignal;
  readonly onScored?: () => void;
}

/** Refuses maps and classes that do not pair up. */
export function checkRemeasureInput(input: Pick<RemeasureInput, "maps" | "classes">): void {
  if (input.classes.length !== input.maps.length) throw new Error(`${input.classes.length} classes for ${input.maps.length} held-out maps`);
}
