/**
 * The contract between the lifecycle's job runner (cron, SQLite state) and
 * the job bodies that build candidate bundles. A body reads the active
 * bundle, learns from the accepted frames, and writes one complete, verified
 * candidate bundle at `outDir`; promotion is the runner's business.
 */
import type { Logger } from "../../util/log.js";

export interface AcceptedFrame {
  /** Encoded image (PNG/JPEG/…) on disk, as the accepted-normal ledger stored it. */
  readonly path: string;
  /** Hex SHA-256 of the file's bytes; a file whose content no longer matches is skipped. */
  readonly sha256: string;
  /** Product class, when the operator or client said; frames are held out per class. */
  readonly classTag?: string;
}

export interface JobContext {
  readonly kind: "refresh" | "retrain";
  readonly activeBundleDir: string;
  /** Where the candidate bundle is written (must not exist, or be empty). */
  readonly outDir: string;
  readonly accepted: readonly AcceptedFrame[];
  readonly signal: AbortSignal;
  readonly progress: (done: number, total: number, message: string) => void;
  readonly log: Logger;
  /** Job options from the schedule or the API (JSON); each body documents and validates its own. */
  readonly options?: Record<string, unknown>;
}

export interface JobResult {
  /** JSON-serializable facts for the job record: version written, counts, timings, thresholds. */
  readonly summary: Record<string, unknown>;
}

export type JobBody = (ctx: JobContext) => Promise<JobResult>;
