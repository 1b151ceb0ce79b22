/**
 * Anomaly synthesis for the pseudo-validation set (paper 3.4): mask
 * families, their rotation and combination, CutPaste-style pasting between
 * normal images, shading and warping in place, and the set builder in memory
 * (pseudoSamples). dataset/pseudo-set.ts (writePseudoSet) puts a set on disk.
 */
export { MASK_FAMILIES, FAMILY_SHAPES, type MaskFamily, type Shape, type ShapeContext } from "./shapes.js";
export { rasterize, maskArea, maskBox, unionMasks, emptyMask, type BinaryMask, type MaskBox, type Placement } from "./mask.js";
export { combinedMask, DEFAULT_MASK_OPTIONS, type CombinedMask, type MaskOptions, type MaskPart } from "./combine.js";
export { pasteFragment, visibleFraction, transformOffset, IDENTITY_PASTE, type ContentTransform, type PasteParams } from "./paste.js";
export { poissonBlend, type PoissonOptions, type PoissonResult } from "./poisson.js";
export { fitSource } from "./fit-source.js";
export { synthesizeShadeAnomaly, SHADE_GAIN, SHADE_BIAS } from "./shade.js";
export { synthesizeWarpAnomaly, WARP_AREA, DENT_PUSH, TWIST_DEGREES, type WarpInfo } from "./warp.js";
export { synthesizeAnomaly, drawShift, MIN_VISIBLE, type Anomaly, type AnomalyInfo, type AnomalyOptions } from "./anomaly.js";
export { pseudoSamples, swapSamples, warpSamples, checkPseudoOptions, MAX_PER_CLASS, type PseudoClass, type PseudoOptions, type PseudoRecipe, type PseudoSample } from "./samples.js";
export { synthesizeSwap, type SwapInfo, type SwappedPart } from "./swap.js";
export { holdoutClasses } from "./holdout.js";
