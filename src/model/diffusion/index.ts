/**
 * The diffusion part of LafitE (paper 3.2–3.3): what the pipeline and CLI use.
 *   trainDiffusion   — Eq. 6 training on standardized normal features, in ONNX Runtime
 *   Reconstructor    — Eq. 11 corruption + Eq. 7 DDIM (corrected) on an exported U-Net
 *   exportUNet       — inference graph x, temb → eps from trained weights
 *   presets          — `paper`, `cpu` (default here), `tiny` (tests, first start)
 */
export { DIFFUSION_PRESETS, UNET_PRESETS, diffusionPreset, type DiffusionConfig, type UNetConfig, type PresetName, type ExecutionProviderName, type LrSchedule } from "./config.js";
export { trainDiffusion, type TrainOptions, type TrainResult } from "./trainer.js";
export { Reconstructor, type ReconstructorConfig, type DdimRunner } from "./reconstructor.js";
export { exportUNet } from "./export.js";
export { readUNetModel, type UNetModel } from "./unet-model.js";
export { createSessionWithFallback } from "./execution-provider.js";
export { cosineSchedule, DEFAULT_T, type NoiseSchedule } from "./schedule.js";
export { ddimTimesteps } from "./ddim.js";
export { unetParamSpecs, paramCount, type FeatureShape } from "./unet.js";
