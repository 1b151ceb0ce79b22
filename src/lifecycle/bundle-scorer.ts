/**
 * The promotion gate's scorer over a bundle: the same loader and Detector
 * as serving (so the gate measures what the daemon would answer), one
 * encoded image at a time.
 */
import type { BundleScorerFactory } from "./job-body.js";

export const pipelineBundleScorer: BundleScorerFactory = async (bundleDir, options) => {
  const { loadDetector } = await import("../pipeline/load.js");
  const detector = await loadDetector(bundleDir, options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {});
  return {
    version: detector.info.version,
    threshold: detector.info.threshold,
    score: async (image) => {
      const d = await detector.detect({ kind: "encoded", bytes: image });
      return { score: d.score, threshold: d.threshold };
    },
    close: () => detector.close(),
  };
};
