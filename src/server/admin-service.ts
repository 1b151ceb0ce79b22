/**
 * lafited.v1.ModelAdmin over the Lifecycle: operator feedback (accept,
 * confirm, list, remove), the model registry (list, activate, rollback) and
 * jobs (run, list, watch). Each handler checks the peer, turns the request
 * into a lifecycle call and the result into a message; errors take the one
 * status mapping of status.ts.
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  AcceptResponseSchema,
  AcceptStatus,
  ActivateModelResponseSchema,
  FrameKind,
  ListAcceptedResponseSchema,
  ListJobsResponseSchema,
  ListModelsResponseSchema,
  RemoveAcceptedResponseSchema,
  type AcceptResponse,
  type FrameSource,
  type Job,
  type ModelAdmin,
} from "../gen/lafited/v1/admin_pb.js";
import type { ServiceImpl } from "./grpc-adapter.js";
import type { FrameCache } from "./frame-cache.js";
import { toStatus } from "./status.js";
import { isLoopbackPeer } from "./peer.js";
import { acceptedFrameMessage, jobKindOf, jobMessage, modelVersionMessage } from "./admin-messages.js";
import type { Lifecycle } from "../lifecycle/lifecycle.js";
import type { FrameKind as LedgerKind, ScoredImage } from "../lifecycle/ledger.js";
import type { JobRecord } from "../lifecycle/job-records.js";
import { storableImage } from "../image/storable-image.js";
import { LafiteError, ErrorCode, errorCodeOf, invalidInput } from "../util/errors.js";
import type { Logger } from "../util/log.js";

export interface AdminServiceOptions {
  readonly lifecycle: Lifecycle;
  readonly cache: FrameCache;
  /** Scores an encoded image with the model in service (for frames sent as images). */
  readonly scoreImage: (bytes: Uint8Array, classTag: string) => Promise<{ score: number; threshold: number; modelVersion: string; readAs?: string }>;
  /** The classes of the model in service (GetModelInfo.classes), for the ledger's wrong-class check; none without it. */
  readonly modelClasses?: () => readonly string[];
  /** The model's look-alike classes (ModelInfo.alikeClasses), for the same check: a frame read as a class alike to its tag's passes it. */
  readonly alikeClasses?: () => Readonly<Record<string, readonly string[]>> | undefined;
  /** Whether peers off loopback may administer (admin.allowRemote, or auth is configured and scopes decide). */
  readonly allowRemote: () => boolean;
  readonly log: Logger;
}

type Impl = ServiceImpl<typeof ModelAdmin>;

/** Calls in progress, so shutdown can let them finish before the database closes. */
class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  track<T>(p: Promise<T>): Promise<T> {
    this.count++;
    return p.finally(() => {
      if (--this.count === 0) for (const w of this.waiters.splice(0)) w();
    });
  }

  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** A unary handler body that may throw or reject; the status comes from status.ts. */
function unary<Req, Res>(
  check: (call: grpc.ServerUnaryCall<Req, Res>) => void,
  log: Logger,
  inFlight: InFlight,
  body: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    void inFlight.track(
      Promise.resolve()
        .then(() => {
          check(call);
          return body(call.request, call);
        })
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            if (errorCodeOf(err) === ErrorCode.INTERNAL) log.error({ err, method: call.getPath() }, "admin call failed");
            callback(toStatus(err));
          },
        ),
    );
  };
}

export class AdminService {
  private accepting = true;
  private readonly watches = new Set<() => void>();
  private readonly inFlight = new InFlight();

  readonly impl: Impl;

  constructor(private readonly opts: AdminServiceOptions) {
    this.impl = this.makeImpl();
  }

  /** Shutdown: refuses new calls, ends open WatchJob streams, and resolves once calls in progress have answered. */
  stop(): Promise<void> {
    this.accepting = false;
    for (const end of [...this.watches]) end();
    return this.inFlight.idle();
  }

  private readonly check = (call: { getPeer(): string }): void => {
    if (!this.accepting) throw new LafiteError(ErrorCode.SHUTTING_DOWN, "daemon is shutting down");
    const peer = call.getPeer();
    if (!this.opts.allowRemote() && !isLoopbackPeer(peer)) {
      throw new LafiteError(ErrorCode.PERMISSION_DENIED, `model administration is allowed from loopback only (peer ${peer}); configure auth (tokens with the admin scope) or set admin.allowRemote`);
    }
  };

  /** The frame a request names, with the score it got. Unknown or ambiguous ids are refusals, not errors. */
  private async resolve(src: FrameSource | undefined, classTag: string): Promise<ScoredImage | { refused: string }> {
    const s = src?.source;
    // The model's classes, for the ledger's wrong-class check of a tagged frame.
    const modelClasses = this.opts.modelClasses?.() ?? [];
    const alikeClasses = this.opts.alikeClasses?.();
    const known = { modelClasses, ...(alikeClasses ? { alikeClasses } : {}) };
    if (s?.case === "frameId") {
      if (s.value === "") throw invalidInput("frame.frame_id is empty");
      let cached;
      try {
        cached = this.opts.cache.find(s.value);
      } catch (err) {
        if (err instanceof LafiteError && (err.code === ErrorCode.NOT_FOUND || err.code === ErrorCode.CONFLICT)) return { refused: err.message };
        throw err;
      }
      return {
        bytes: await storableImage(cached.frame),
        score: cached.score,
        threshold: cached.threshold,
        modelVersion: cached.modelVersion,
        frameId: cached.frameId,
        ...(cached.classTag ? { classTag: cached.classTag } : {}),
        ...(cached.frameClass ? { readAs: cached.frameClass } : {}),
        ...(cached.lookRatio ? { lookRatio: cached.lookRatio } : {}),
        ...(cached.lightRatio ? { lightRatio: cached.lightRatio } : {}),
        ...(cached.unlike ? { unlike: true } : {}),
        ...known,
      };
    }
    if (s?.case === "image") {
      if (s.value.length === 0) throw invalidInput("frame.image is empty");
      const scored = await this.opts.scoreImage(s.value, classTag);
      return { bytes: s.value, ...scored, ...known };
    }
    throw invalidInput("frame must set frame_id or image");
  }

  private async record(kind: LedgerKind, req: { frame?: FrameSource; classTag: string; operator: string; note: string; force?: boolean }): Promise<AcceptResponse> {
    const image = await this.resolve(req.frame, req.classTag);
    if ("refused" in image) return create(AcceptResponseSchema, { status: AcceptStatus.REFUSED, reason: image.refused });
    const out = await this.opts.lifecycle.ledger.record({ kind, image, classTag: req.classTag, operator: req.operator, note: req.note, force: req.force ?? false });
    if (out.status === "refused") {
      return create(AcceptResponseSchema, { status: AcceptStatus.REFUSED, reason: out.reason, sha256: out.sha256, score: out.score, modelVersion: out.modelVersion });
    }
    const r = out.record;
    this.opts.log.info({ kind, id: r.id, status: out.status, operator: r.operator, score: r.score, model: r.modelVersion }, kind === "normal" ? "frame accepted as normal" : "defect confirmed");
    return create(AcceptResponseSchema, {
      status: out.status === "accepted" ? AcceptStatus.ACCEPTED : AcceptStatus.DUPLICATE,
      acceptedId: BigInt(r.id),
      reason: out.reason,
      sha256: r.sha256,
      score: r.score,
      modelVersion: r.modelVersion,
    });
  }

  private job(j: JobRecord): Job {
    const gate = j.resultVersion ? (this.opts.lifecycle.registry.get(j.resultVersion)?.gate ?? null) : null;
    return jobMessage(j, gate);
  }

  private makeImpl(): Impl {
    return {
      acceptNormal: unary(this.check, this.opts.log, this.inFlight, (req) => this.record("normal", req)),
      confirmDefect: unary(this.check, this.opts.log, this.inFlight, (req) => this.record("defect", req)),
      listAccepted: unary(this.check, this.opts.log, this.inFlight, (req) => {
        const kind = req.kind === FrameKind.NORMAL ? "normal" : req.kind === FrameKind.DEFECT ? "defect" : undefined;
        const frames = this.opts.lifecycle.ledger.list({ ...(kind ? { kind } : {}), includeRemoved: req.includeRemoved, limit: req.limit });
        return create(ListAcceptedResponseSchema, { frames: frames.map(acceptedFrameMessage) });
      }),
      removeAccepted: unary(this.check, this.opts.log, this.inFlight, (req) => {
        const { record, changed } = this.opts.lifecycle.ledger.remove(Number(req.id), req.operator);
        return create(RemoveAcceptedResponseSchema, { frame: acceptedFrameMessage(record), changed });
      }),
      listModels: unary(this.check, this.opts.log, this.inFlight, () => {
        const reg = this.opts.lifecycle.registry;
        return create(ListModelsResponseSchema, { models: reg.list().map(modelVersionMessage), activeVersion: reg.active()?.version ?? "" });
      }),
      activateModel: unary(this.check, this.opts.log, this.inFlight, async (req) => {
        if (req.version === "") throw invalidInput("version is empty");
        const r = await this.opts.lifecycle.activate(req.version, { reason: `activated by ${req.operator || "an operator"} (ActivateModel${req.force ? ", force" : ""})`, force: req.force });
        return create(ActivateModelResponseSchema, { activeVersion: r.active, previousVersion: r.previous ?? "" });
      }),
      rollback: unary(this.check, this.opts.log, this.inFlight, async (req) => {
        const r = await this.opts.lifecycle.rollback(req.operator);
        return create(ActivateModelResponseSchema, { activeVersion: r.active, previousVersion: r.previous ?? "" });
      }),
      runJob: unary(this.check, this.opts.log, this.inFlight, (req) => {
        const kind = jobKindOf(req.kind);
        if (!kind) throw invalidInput("kind must be JOB_KIND_REFRESH or JOB_KIND_RETRAIN");
        const { record, finished } = this.opts.lifecycle.runJob(kind, "api");
        finished.catch(() => undefined); // the outcome is recorded; WatchJob/ListJobs report it
        return this.job(record);
      }),
      listJobs: unary(this.check, this.opts.log, this.inFlight, (req) => create(ListJobsResponseSchema, { jobs: this.opts.lifecycle.jobs.list(req.limit).map((j) => this.job(j)) })),
      watchJob: (call) => {
        try {
          this.check(call);
        } catch (err) {
          call.emit("error", toStatus(err));
          return;
        }
        const lc = this.opts.lifecycle;
        const id = Number(call.request.id);
        const first = lc.jobs.get(id);
        if (!first) {
          call.emit("error", toStatus(new LafiteError(ErrorCode.NOT_FOUND, `no job with id ${id}`)));
          return;
        }
        let ended = false;
        const end = (status?: grpc.StatusObject) => {
          if (ended) return;
          ended = true;
          lc.off("job", onJob);
          this.watches.delete(endOnShutdown);
          if (status) call.emit("error", status);
          else call.end();
        };
        const send = (j: JobRecord) => {
          if (ended) return;
          call.write(this.job(j));
          if (j.state !== "running") end();
        };
        const onJob = (j: JobRecord) => {
          if (j.id === id) send(j);
        };
        const endOnShutdown = () => end(toStatus(new LafiteError(ErrorCode.SHUTTING_DOWN, "daemon is shutting down; the job's outcome will be in ListJobs after restart")));
        this.watches.add(endOnShutdown);
        lc.on("job", onJob);
        call.on("cancelled", () => end());
        // Re-read after subscribing, so an update between get() and on() is not missed.
        send(lc.jobs.get(id) ?? first);
      },
    };
  }
}
