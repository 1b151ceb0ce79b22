/**
 * One job's work, wherever it runs (a child process in the daemon, the same
 * process in tests): the body writes a candidate bundle at outDir, then the
 * promotion gate judges it against the active bundle. Input and output are
 * plain JSON so they cross a process boundary unchanged.
 */
import { rm } from "node:fs/promises";
import type { AcceptedImage, JobBodyModule } from "./job-body.js";
import type { JobKind } from "./job-records.js";
import type { GateDecision } from "./registry.js";
import { runGate, type GateImage } from "./gate.js";
import type { GateMemo } from "./gate-memo.js";
import { makePseudoValidationAuroc } from "./pseudo-validation.js";
import { pipelineBundleScorer } from "./bundle-scorer.js";
import { faultPoint } from "./fault.js";
import { readBundle } from "../model/bundle.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface JobSpec {
  readonly jobId: number;
  readonly kind: JobKind;
  readonly activeBundleDir: string;
  readonly outDir: string;
  readonly accepted: readonly AcceptedImage[];
  readonly gate: {
    readonly acceptedHoldout: readonly GateImage[];
    readonly defects: readonly GateImage[];
    readonly aurocTolerance: number;
    readonly pseudoValidationData: string | null;
    /** What earlier gates measured of the active model (gate-memo.ts); absent or another version's: it is scored whole. */
    readonly memos?: readonly GateMemo[];
  };
  readonly intraOpThreads: number;
  /** The body's options (config jobs.<kind>.options); intraOpThreads is set from the field above. */
  readonly options?: Readonly<Record<string, unknown>>;
  /** How often the working process shows it is alive (config jobs.heartbeatMs). */
  readonly heartbeatMs: number;
  /** Module exporting JobBodyModule; default ./job-bodies.js. */
  readonly bodyModule?: string;
}

export interface JobResult {
  readonly version: string;
  readonly summary: Record<string, unknown>;
  readonly gate: GateDecision;
  /** What this gate measured of the active model and the candidate, for the next job's gate. */
  readonly gateMemos: readonly GateMemo[];
}

export type ProgressFn = (done: number, total: number, message: string) => void;

export async function loadBodyModule(specifier?: string): Promise<JobBodyModule> {
  return (await import(specifier ?? "./job-bodies.js")) as JobBodyModule;
}

export async function executeJob(spec: JobSpec, deps: { progress: ProgressFn; signal: AbortSignal; log: Logger; ready?: () => void }): Promise<JobResult> {
  const mod = await loadBodyModule(spec.bodyModule);
  // Loaded: from here on the process must keep its heartbeat (the watchdog's start-up grace ends).
  deps.ready?.();
  const body = mod.bodies[spec.kind];
  if (!body) throw new LafiteError(ErrorCode.INTERNAL, `no body for job kind '${spec.kind}'`);
  // A fresh folder: a body never sees leftovers of an earlier attempt.
  await rm(spec.outDir, { recursive: true, force: true });
  deps.progress(0, 0, `${spec.kind}: ${spec.accepted.length} accepted frames`);
  const threads = spec.intraOpThreads > 0 ? { intraOpThreads: spec.intraOpThreads } : {};
  const { summary } = await body({
    kind: spec.kind,
    activeBundleDir: spec.activeBundleDir,
    outDir: spec.outDir,
    accepted: spec.accepted,
    signal: deps.signal,
    progress: deps.progress,
    log: deps.log,
    ...threads,
    options: { ...spec.options, ...threads },
  });
  faultPoint("job.child-mid-body");
  const bundle = await readBundle(spec.outDir).catch((err: unknown) => {
    throw new LafiteError(ErrorCode.BAD_BUNDLE, `the ${spec.kind} job wrote no valid bundle: ${(err as Error).message}`, { cause: err });
  });
  deps.progress(0, 0, "promotion gate");
  const { decision: gate, memos } = await runGate({
    activeDir: spec.activeBundleDir,
    candidateDir: spec.outDir,
    acceptedHoldout: spec.gate.acceptedHoldout,
    defects: spec.gate.defects,
    aurocTolerance: spec.gate.aurocTolerance,
    scorer: mod.bundleScorer ?? pipelineBundleScorer,
    pseudoValidationAuroc: makePseudoValidationAuroc(spec.gate.pseudoValidationData, { activeDir: spec.activeBundleDir, acceptedNormals: spec.gate.acceptedHoldout }, { ...threads, signal: deps.signal }),
    signal: deps.signal,
    ...threads,
    ...(spec.gate.memos ? { memos: spec.gate.memos } : {}),
  });
  return { version: bundle.manifest.version, summary, gate, gateMemos: memos };
}
