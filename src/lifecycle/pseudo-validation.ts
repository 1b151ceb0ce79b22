/**
 * MERGE SEAM — the promotion gate's "image AUROC on the pseudo-validation
 * set". Until the pseudo-validation library lands, this scores the test/
 * images of an MVTec-layout folder (config promotion.pseudoValidationData)
 * with the existing evaluate(); at merge, switch the body of
 * makePseudoValidationAuroc to the real synthesized pseudo set. The gate
 * depends only on the PseudoValidationAuroc type.
 */
export type PseudoValidationAuroc = (bundleDir: string) => Promise<number>;

/** null when no set is configured: the gate then records the check as skipped. */
export function makePseudoValidationAuroc(data: string | null, options: { intraOpThreads?: number; signal?: AbortSignal } = {}): PseudoValidationAuroc | null {
  if (data === null) return null;
  return async (bundleDir) => {
    const { loadDetector } = await import("../pipeline/load.js");
    const { evaluate } = await import("../eval/evaluate.js");
    const detector = await loadDetector(bundleDir, options.intraOpThreads ? { intraOpThreads: options.intraOpThreads } : {});
    try {
      const report = await evaluate(detector, { data, log: () => {}, progressSink: () => {}, ...(options.signal ? { signal: options.signal } : {}) });
      if (report.mean.image_auroc === null) throw new Error(`pseudo-validation set ${data} gives no image AUROC (it needs normal and anomalous test images)`);
      return report.mean.image_auroc;
    } finally {
      await detector.close();
    }
  };
}
