/**
 * Lifecycle job bodies (issue 9): what the cron runner calls to turn accepted
 * normal frames into a candidate bundle.
 *   refreshMemoryBank — incremental coreset growth + threshold (part 3)
 *   retrainDiffusion  — fine-tune the U-Net with replay + threshold (part 4)
 */
export type { AcceptedFrame, JobBody, JobContext, JobResult } from "./types.js";
export { refreshMemoryBank } from "./refresh-memory-bank.js";
export { retrainDiffusion, makeRetrainDiffusion, type RetuneHook, type RetuneInput } from "./retrain-diffusion.js";
