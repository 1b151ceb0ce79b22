/** Records the model layer works on; pipeline/ and the server see them through pipeline/types.ts. */
import type { GridRect, Placement } from "../image/geometry.js";

/** Channel-major feature tensor x ∈ R^{c×h×w}. */
export interface FeatureMap {
  readonly data: Float32Array;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  /** The grid cells that show the frame, when a letterbox border takes the rest (image/geometry.ts frameCells); absent = every cell. */
  readonly frame?: GridRect;
  /** Where the frame lands in the S×S input, in input pixels (image/geometry.ts placement), when its size was known; absent = the whole square. */
  readonly place?: Placement;
  /** The frame's own size before it was fitted into the input, when known (what the size correction reads: scoring/size-trend.ts). */
  readonly frameSize?: { readonly width: number; readonly height: number };
  /** The frame's mean level per colour channel in the input (image/frame-light.ts), when the backbone runner measured it: what the look gate reads a failed lamp by. */
  readonly light?: readonly number[];
}

/**
 * Scoring modes (DESIGN.md, method 8 and Table 4 of the paper, plus one row):
 *   lafite     edit (Eq. 10), corrupt to τ and DDIM-reconstruct, ‖x_rec − x‖²
 *   edit-only  ‖e − x‖² of the edited features, no diffusion: the honest
 *              ablation that shows what the diffusion model adds
 *   no-edit    reconstruct the raw features (LafitE w/o feature editing)
 *   knn        distance to the nearest coreset slice (PatchCore-style)
 */
export type ScoringMode = "knn" | "edit-only" | "lafite" | "no-edit";
export const SCORING_MODES: readonly ScoringMode[] = ["knn", "edit-only", "lafite", "no-edit"];
/** Modes that need the diffusion model. */
export const DIFFUSION_MODES: readonly ScoringMode[] = ["lafite", "no-edit"];
/** Modes that search the memory bank, and so read a frame's class (no-edit reconstructs without searching). */
export const BANK_MODES: readonly ScoringMode[] = ["knn", "edit-only", "lafite"];
