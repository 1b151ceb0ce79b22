/** Records the model layer works on; pipeline/ and the server see them through pipeline/types.ts. */

/** Channel-major feature tensor x ∈ R^{c×h×w}. */
export interface FeatureMap {
  readonly data: Float32Array;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/** Scoring modes (DESIGN.md, method 8 and Table 4 of the paper). */
export type ScoringMode = "knn" | "lafite" | "no-edit";
