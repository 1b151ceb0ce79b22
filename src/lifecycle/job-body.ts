/**
 * The contract between the job runner and a job's body. A body (memory-bank
 * refresh or diffusion retraining, in ./jobs/) reads the active bundle and
 * the accepted frames and writes ONE complete candidate bundle at `outDir`
 * (with a new manifest version). It reports progress, honours `signal`, and
 * never touches the registry: registering, gating and promoting the
 * candidate is the runner's job.
 */
import type { Logger } from "../util/log.js";
import type { JobKind } from "./job-records.js";

export interface AcceptedImage {
  /** Absolute path of the stored image. */
  readonly path: string;
  readonly sha256: string;
  readonly classTag?: string;
}

export interface JobBodyContext {
  readonly kind: JobKind;
  readonly activeBundleDir: string;
  readonly outDir: string;
  /** Live accepted normals, hold-out share excluded, oldest first. */
  readonly accepted: readonly AcceptedImage[];
  readonly signal: AbortSignal;
  progress(done: number, total: number, message: string): void;
  readonly log: Logger;
  /** ONNX Runtime intra-op threads the body should use (config jobs.intraOpThreads; absent = ORT default). */
  readonly intraOpThreads?: number;
  /** Body options (JSON); each body documents its own. The runner passes intraOpThreads here too. */
  readonly options?: Record<string, unknown>;
}

export type JobBody = (ctx: JobBodyContext) => Promise<{ summary: Record<string, unknown> }>;

/** A scorer over one bundle, for the promotion gate. */
export interface BundleScorer {
  readonly version: string;
  /** The model's threshold (a frame read as a class with its own threshold is judged by that one instead). */
  readonly threshold: number;
  /** Anomaly score of an encoded image, and the threshold the daemon would judge it by. */
  score(image: Uint8Array): Promise<{ readonly score: number; readonly threshold: number }>;
  close(): Promise<void>;
}

export type BundleScorerFactory = (bundleDir: string, options: { intraOpThreads?: number }) => Promise<BundleScorer>;

/**
 * What a job-body module exports. The default module is ./job-bodies.js;
 * tests point the runner at a module of fakes with the same shape.
 */
export interface JobBodyModule {
  readonly bodies: Partial<Record<JobKind, JobBody>>;
  /** Scorer for the gate; the default loads the bundle with the real pipeline. */
  readonly bundleScorer?: BundleScorerFactory;
}
