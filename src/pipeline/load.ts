// TEMPORARY during bring-up (replaced by the real bundle loader in the same session).
import type { Detector } from "./types.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface LoadOptions {
  executionProvider?: "cpu" | "cuda";
  intraOpThreads?: number;
  log?: (msg: string) => void;
}

/** Loads a model bundle folder and returns a ready Detector (sessions created, index loaded, self-check run). */
export async function loadDetector(bundleDir: string, _options: LoadOptions = {}): Promise<Detector> {
  throw new LafiteError(ErrorCode.NO_MODEL, `cannot load ${bundleDir}: loader not built yet`);
}

/**
 * Returns the path of the default bundle under dataDir, making the demo data set
 * and fitting the default model first if none exists (progress on stderr).
 */
export async function ensureDefaultBundle(dataDir: string, _options: { signal?: AbortSignal; log?: (msg: string) => void } = {}): Promise<string> {
  throw new LafiteError(ErrorCode.NO_MODEL, `no default bundle in ${dataDir}: fit not built yet`);
}
