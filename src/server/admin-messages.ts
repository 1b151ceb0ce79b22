/**
 * Lifecycle records → lafited.v1 admin messages (and the enum mappings both
 * ways). The only place that knows both shapes.
 */
import { create } from "@bufbuild/protobuf";
import {
  AcceptedFrameSchema,
  FrameKind,
  GateResultSchema,
  JobKind as ProtoJobKind,
  JobSchema,
  JobState as ProtoJobState,
  ModelState as ProtoModelState,
  ModelVersionSchema,
  type AcceptedFrame,
  type GateResult,
  type Job,
  type ModelVersion,
} from "../gen/lafited/v1/admin_pb.js";
import type { FrameRecord } from "../lifecycle/ledger.js";
import type { GateDecision, ModelState, ModelVersionRecord } from "../lifecycle/registry.js";
import type { JobKind, JobRecord, JobState } from "../lifecycle/job-records.js";

export const MODEL_STATE: Readonly<Record<ModelState, ProtoModelState>> = {
  active: ProtoModelState.ACTIVE,
  candidate: ProtoModelState.CANDIDATE,
  previous: ProtoModelState.PREVIOUS,
  rejected: ProtoModelState.REJECTED,
  retired: ProtoModelState.RETIRED,
  pruned: ProtoModelState.PRUNED,
};

export const JOB_STATE: Readonly<Record<JobState, ProtoJobState>> = {
  running: ProtoJobState.RUNNING,
  succeeded: ProtoJobState.SUCCEEDED,
  failed: ProtoJobState.FAILED,
  abandoned: ProtoJobState.ABANDONED,
  cancelled: ProtoJobState.CANCELLED,
};

export const JOB_KIND: Readonly<Record<JobKind, ProtoJobKind>> = { refresh: ProtoJobKind.REFRESH, retrain: ProtoJobKind.RETRAIN };

export function jobKindOf(kind: ProtoJobKind): JobKind | undefined {
  return kind === ProtoJobKind.REFRESH ? "refresh" : kind === ProtoJobKind.RETRAIN ? "retrain" : undefined;
}

/** "active", "candidate", ... for printing. */
export function modelStateName(s: ProtoModelState): string {
  return ProtoModelState[s]?.toLowerCase() ?? `unknown(${s})`;
}

export function jobStateName(s: ProtoJobState): string {
  return ProtoJobState[s]?.toLowerCase() ?? `unknown(${s})`;
}

export function jobKindName(k: ProtoJobKind): string {
  return jobKindOf(k) ?? `unknown(${k})`;
}

export function acceptedFrameMessage(r: FrameRecord): AcceptedFrame {
  return create(AcceptedFrameSchema, {
    id: BigInt(r.id),
    kind: r.kind === "normal" ? FrameKind.NORMAL : FrameKind.DEFECT,
    sha256: r.sha256,
    classTag: r.classTag,
    operator: r.operator,
    note: r.note,
    frameId: r.frameId,
    score: r.score,
    threshold: r.threshold,
    modelVersion: r.modelVersion,
    createdAt: r.createdAt,
    forced: r.forced,
    holdout: r.holdout,
    removedAt: r.removedAt ?? "",
  });
}

export function gateMessage(g: GateDecision): GateResult {
  return create(GateResultSchema, { passed: g.passed, checks: [...g.checks], detailsJson: JSON.stringify(g.details), decidedAt: g.decidedAt });
}

export function modelVersionMessage(v: ModelVersionRecord): ModelVersion {
  return create(ModelVersionSchema, {
    version: v.version,
    state: MODEL_STATE[v.state],
    stateReason: v.stateReason,
    parent: v.parent ?? "",
    dataSnapshotJson: JSON.stringify(v.dataSnapshot),
    metricsJson: JSON.stringify(v.metrics),
    ...(v.gate ? { gateResult: { case: "gate" as const, value: gateMessage(v.gate) } } : {}),
    createdAt: v.createdAt,
    jobId: BigInt(v.jobId ?? 0),
  });
}

export function jobMessage(j: JobRecord, gate: GateDecision | null): Job {
  return create(JobSchema, {
    id: BigInt(j.id),
    kind: JOB_KIND[j.kind],
    state: JOB_STATE[j.state],
    done: j.done,
    total: j.total,
    message: j.message,
    ownerPid: j.ownerPid,
    startedAt: j.startedAt,
    heartbeatAt: j.heartbeatAt,
    finishedAt: j.finishedAt ?? "",
    trigger: j.trigger,
    resultVersion: j.resultVersion ?? "",
    decision: j.decision,
    ...(gate ? { gateResult: { case: "gate" as const, value: gateMessage(gate) } } : {}),
  });
}
