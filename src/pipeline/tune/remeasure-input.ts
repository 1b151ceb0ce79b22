/**
 * What a lifecycle re-measure of a per-class correction (the size trends, the
 * edge profiles, the position profiles) is given: a model's held-out normals
 * and the parts and settings it will serve them with.
 */
import type * as ort from "onnxruntime-node";
import type { FeatureMap } from "../../model/types.js";
import type { ScorerParts, ScorerSettings } from "../open-scorer.js";

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
