/**
 * Session creation with the requested execution provider: CUDA when asked
 * for and loadable, otherwise CPU — and exactly one log line saying which.
 */
import * as ort from "onnxruntime-node";
import type { ExecutionProviderName } from "./config.js";

export interface ProviderSession {
  session: ort.InferenceSession;
  provider: ExecutionProviderName;
}

export async function createSessionWithFallback(
  model: Uint8Array,
  requested: ExecutionProviderName,
  options: { intraOpNumThreads?: number; what: string; log: (line: string) => void },
): Promise<ProviderSession> {
  const base: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: "all" };
  if (options.intraOpNumThreads !== undefined) base.intraOpNumThreads = options.intraOpNumThreads;
  let why = "";
  if (requested === "cuda") {
    try {
      const session = await ort.InferenceSession.create(model, { ...base, executionProviders: ["cuda"] });
      options.log(`${options.what}: execution provider cuda`);
      return { session, provider: "cuda" };
    } catch (err) {
      why = ` (cuda requested but unavailable: ${String((err as Error).message ?? err).split("\n")[0]})`;
    }
  }
  const session = await ort.InferenceSession.create(model, { ...base, executionProviders: ["cpu"] });
  options.log(`${options.what}: execution provider cpu${why}`);
  return { session, provider: "cpu" };
}
