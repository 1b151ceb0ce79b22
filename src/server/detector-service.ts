/**
 * lafited.v1.Detector: Detect (bidirectional stream), DetectOne and
 * GetModelInfo. A frame's path through the server reads top to bottom in
 * `scoreFrame`: check the request → wait for a queue slot → lease the current
 * detector → detect → render what was asked → response.
 *
 * Streams answer in request order: each frame takes a slot in the stream's
 * pending list when it arrives and responses leave from the head only. When a
 * stream has `perStream` frames unanswered (pending, or written but not yet
 * handed to HTTP/2) it stops reading, so HTTP/2 flow control slows the client
 * down.
 *
 * Every step of a stream's progress is driven by a callback that always
 * fires: a frame's own promise, and each write's completion callback. It
 * never waits for a stream event that fires only sometimes: 'drain' is
 * emitted only after the write buffer went over its high-water mark (16
 * messages), so a stream paused with fewer writes in flight than that was
 * never resumed (issue 7).
 */
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Detector as DetectorDesc,
  DetectResponseSchema,
  FrameErrorSchema,
  ModelInfoSchema,
  ClassListSchema,
  TiledClassSchema,
  RegionSchema,
  StageTimingsSchema,
  Verdict,
  type DetectRequest,
  type DetectResponse,
  type ModelInfo as ProtoModelInfo,
} from "../gen/lafited/v1/detector_pb.js";
import type { ServiceImpl } from "./grpc-adapter.js";
import type { DetectorSlot } from "./detector-slot.js";
import type { FrameQueue } from "./frame-queue.js";
import { toFrameRequest, type FrameRequest } from "./frame-request.js";
import { frameRefusal } from "./call-guard.js";
import { grpcStatusOf, publicMessage, toStatus } from "./status.js";
import type { ModelInfo } from "../pipeline/types.js";
import { findRegions } from "../pipeline/regions.js";
import { emptyMaskPng, renderHeatmapPng, renderMaskPng } from "../image/heatmap.js";
import { LafiteError, ErrorCode, errorCodeOf } from "../util/errors.js";
import type { Logger } from "../util/log.js";
import { DEFAULT_CLASS_TAG_MISMATCH, frameIsNg, type ClassTagMismatch } from "../pipeline/class-tag.js";

export interface DetectorServiceOptions {
  readonly slot: DetectorSlot;
  readonly queue: FrameQueue;
  readonly maxPixels: number;
  readonly maxRegions: number;
  /** Unanswered frames per stream before the server stops reading it. */
  readonly perStream: number;
  readonly log: Logger;
  /** Told of every frame's outcome (metrics). */
  readonly observer?: FrameObserver;
  /** The verdict of a frame judged as its class tag but read as another class (config model.classTagMismatch, read per frame so a reload applies it): ng (the default), judge (by its score) or distinct (ng unless the two classes look alike to the model). */
  readonly classTagMismatch?: () => ClassTagMismatch;
  /** Sees every successfully scored frame (the recent-frame cache for ModelAdmin). */
  readonly onScored?: (scored: ScoredFrame) => void;
}

export interface FrameObserver {
  answered(res: DetectResponse): void;
  failed(err: unknown): void;
}

/** A frame and what the daemon answered for it. */
export interface ScoredFrame {
  readonly request: DetectRequest;
  readonly frame: FrameRequest;
  readonly response: DetectResponse;
  /** Which call scored it: the peer, and the stream number for Detect. */
  readonly origin: string;
}

type Impl = ServiceImpl<typeof DetectorDesc>;
type DuplexCall = grpc.ServerDuplexStream<DetectRequest, DetectResponse>;

/** An open Detect stream, as the drain on shutdown sees it. */
interface OpenStream {
  /** Stops reading new frames; resolves when every admitted frame is answered and the call has ended. */
  drain(): Promise<void>;
  /** Ends the call at once with UNAVAILABLE (after the grace period). */
  cut(): void;
}

export class DetectorService {
  private accepting = true;
  private readonly streams = new Set<OpenStream>();
  private nextStreamId = 1;

  constructor(private readonly opts: DetectorServiceOptions) {}

  get openStreams(): number {
    return this.streams.size;
  }

  readonly impl: Impl = {
    detect: (call) => this.detectStream(call),
    detectOne: (call, callback) => {
      const started = performance.now();
      if (!this.accepting) return callback(toStatus(shuttingDown()));
      const signal = callSignal(call);
      this.scoreFrame(call.request, signal.signal, started, `${call.getPeer()} DetectOne`).then(
        (res) => {
          signal.dispose();
          callback(null, res);
        },
        (err: unknown) => {
          signal.dispose();
          this.logFailure(this.opts.log, err);
          callback(toStatus(err));
        },
      );
    },
    getModelInfo: (_call, callback) => {
      const info = this.opts.slot.info;
      if (info === undefined) return callback(toStatus(new LafiteError(ErrorCode.NO_MODEL, "no model is loaded yet")));
      callback(null, modelInfoMessage(info));
    },
  };

  /** Refuses new frames, lets every admitted frame finish and ends open streams; cuts what is left after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    this.accepting = false;
    const streams = [...this.streams];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), graceMs);
    });
    const outcome = await Promise.race([Promise.all(streams.map((s) => s.drain())), deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") for (const s of this.streams) s.cut();
  }

  /** One frame from request to response; throws LafiteError on failure. */
  scoreFrame(req: DetectRequest, signal: AbortSignal, receivedAt: number, origin = "local"): Promise<DetectResponse> {
    const result = this.runFrame(req, signal, receivedAt, origin);
    const observer = this.opts.observer;
    if (observer) result.then((res) => observer.answered(res), (err: unknown) => observer.failed(err));
    return result;
  }

  private async runFrame(req: DetectRequest, signal: AbortSignal, receivedAt: number, origin: string): Promise<DetectResponse> {
    const refusal = frameRefusal(req); // a per-client limit or undecodable bytes (src/server/call-guard.ts)
    if (refusal !== undefined) throw refusal;
    const frame = toFrameRequest(req, { maxPixels: this.opts.maxPixels });
    if (!this.opts.slot.loaded) this.opts.slot.acquire(); // throws NO_MODEL before taking a queue slot
    return this.opts.queue.run(async () => {
      const queueMs = performance.now() - receivedAt;
      const lease = this.opts.slot.acquire();
      try {
        const detection = await lease.detector.detect(frame.frame, frame.options);
        if (signal.aborted) throw new LafiteError(ErrorCode.CANCELLED, "the call ended while the frame ran");
        const response = await this.respond(req.frameId, frame, detection, lease.detector.info, queueMs, receivedAt);
        this.opts.onScored?.({ request: req, frame, response, origin });
        return response;
      } finally {
        lease.release();
      }
    }, signal);
  }

  private async respond(
    frameId: string,
    frame: FrameRequest,
    d: import("../pipeline/types.js").Detection,
    info: ModelInfo,
    queueMs: number,
    receivedAt: number,
  ): Promise<DetectResponse> {
    const renderStart = performance.now();
    let heatmapPng: Uint8Array = new Uint8Array(0);
    let maskPng: Uint8Array = new Uint8Array(0);
    let regions: ReturnType<typeof findRegions> = [];
    // A frame at or below its threshold has a served map at or below it everywhere (Detection.frameMap): an empty
    // mask and no regions. Only a heatmap needs its map then, so a mask or regions alone do not wait for the map (nor
    // for a map-only tiled class's tiles: a 1024-px sheet's 16, most of its time).
    const map = frame.heatmap || ((frame.mask || frame.regions) && d.isAnomalous) ? await d.frameMap() : undefined;
    const [heat, mask] = await Promise.all([
      frame.heatmap && map ? renderHeatmapPng(map, d.width, d.height, d.threshold) : undefined,
      frame.mask ? (map ? renderMaskPng(map, d.width, d.height, d.threshold) : emptyMaskPng(d.width, d.height)) : undefined,
    ]);
    if (heat) heatmapPng = heat;
    if (mask) maskPng = mask;
    if (frame.regions && map) regions = findRegions(map, d.width, d.height, d.threshold, { maxRegions: this.opts.maxRegions });
    const now = performance.now();
    return create(DetectResponseSchema, {
      frameId,
      score: d.score,
      // Like none of the model's classes (an empty station, a covered lens): NG whatever its score.
      verdict: frameIsNg(d, d.isAnomalous, this.opts.classTagMismatch?.() ?? DEFAULT_CLASS_TAG_MISMATCH, info.alikeClasses) ? Verdict.NG : Verdict.OK,
      threshold: d.threshold,
      heatmapPng,
      maskPng,
      regions: regions.map((r) => create(RegionSchema, r)),
      modelVersion: info.version,
      width: d.width,
      height: d.height,
      frameClass: d.class ?? "",
      judgedClass: d.judgedAs ?? "",
      classShares: { ...d.classShares },
      lookRatio: d.lookRatio ?? 0,
      unlikeAnyClass: d.unlike === true,
      lightRatio: d.lightRatio ?? 0,
      timings: create(StageTimingsSchema, {
        queueMs,
        decodeMs: d.timings.decode,
        backboneMs: d.timings.backbone,
        editMs: d.timings.edit,
        diffusionMs: d.timings.diffusion,
        scoreMs: d.timings.score,
        tilesMs: d.timings.tiles ?? 0,
        renderMs: now - renderStart,
        totalMs: now - receivedAt,
      }),
    });
  }

  private detectStream(call: DuplexCall): void {
    const streamId = this.nextStreamId++;
    const origin = `${call.getPeer()} stream ${streamId}`;
    const log = this.opts.log.child({ stream: streamId, peer: call.getPeer() });
    if (!this.accepting) {
      call.emit("error", toStatus(shuttingDown()));
      return;
    }
    if (!this.opts.slot.loaded) {
      call.emit("error", toStatus(new LafiteError(ErrorCode.NO_MODEL, "no model is loaded yet (health is NOT_SERVING); retry when it is SERVING")));
      return;
    }
    const perStream = this.opts.perStream;
    const controller = new AbortController();
    const pending: { response?: DetectResponse }[] = [];
    let halfClosed = false;
    let draining = false;
    let ended = false;
    let frames = 0;
    let failed = 0;
    let dropped = 0;
    let onEnded: (() => void) | undefined;
    const endedPromise = new Promise<void>((resolve) => (onEnded = resolve));

    const finish = (status?: grpc.StatusObject) => {
      if (ended) return;
      ended = true;
      this.streams.delete(handle);
      log.debug({ frames, failed, dropped, status: status?.code ?? grpc.status.OK }, "stream closed");
      if (status) call.emit("error", status);
      else call.end();
      onEnded?.();
    };
    // Responses written whose completion callback has not fired yet (call.writableLength's
    // own count, kept here because the callback is the event that is sure to come).
    let writing = 0;
    const written = () => {
      writing--;
      flush();
    };
    const unanswered = () => pending.length + writing;
    const flush = () => {
      while (!ended && pending.length > 0) {
        const response = pending[0]!.response;
        if (response === undefined) break;
        pending.shift();
        writing++;
        call.write(response, written);
      }
      if (ended) return;
      if (pending.length === 0 && (halfClosed || draining)) {
        if (halfClosed && dropped === 0) finish();
        else finish({ ...toStatus(shuttingDown()), details: `daemon is shutting down; all ${frames} admitted frames were answered${dropped > 0 ? `, ${dropped} later frames were not processed` : ""}` });
        return;
      }
      if (!draining && call.isPaused() && unanswered() < perStream) call.resume();
    };
    const handle: OpenStream = {
      drain: () => {
        draining = true;
        call.pause();
        flush();
        return endedPromise;
      },
      cut: () => {
        controller.abort();
        finish({ ...toStatus(shuttingDown()), details: "daemon is shutting down; the grace period ended before every frame was answered" });
      },
    };
    this.streams.add(handle);
    log.debug("stream opened");

    call.on("data", (req: DetectRequest) => {
      if (ended) return;
      if (draining) {
        dropped++;
        return;
      }
      const receivedAt = performance.now();
      frames++;
      const slot: { response?: DetectResponse } = {};
      pending.push(slot);
      if (unanswered() >= perStream) call.pause();
      this.scoreFrame(req, controller.signal, receivedAt, origin).then(
        (res) => {
          slot.response = res;
          flush();
        },
        (err: unknown) => {
          failed++;
          this.logFailure(log, err, req.frameId);
          slot.response = errorResponse(req.frameId, err);
          flush();
        },
      );
    });
    call.on("end", () => {
      halfClosed = true;
      flush();
    });
    call.on("cancelled", () => {
      controller.abort();
      if (!ended) {
        ended = true;
        this.streams.delete(handle);
        log.debug({ frames, failed }, "stream cancelled by the client or its deadline");
        onEnded?.();
      }
    });
  }

  private logFailure(log: Logger, err: unknown, frameId?: string): void {
    const code = errorCodeOf(err);
    if (code === ErrorCode.INTERNAL) log.error({ err, frameId }, "frame failed");
    else log.debug({ code, frameId, msg: publicMessage(err) }, "frame refused");
  }
}

/** A response carrying a per-frame error; the stream stays open. */
export function errorResponse(frameId: string, err: unknown): DetectResponse {
  return create(DetectResponseSchema, {
    frameId,
    verdict: Verdict.UNSPECIFIED,
    error: create(FrameErrorSchema, { code: grpcStatusOf(err), message: publicMessage(err) }),
  });
}

export function modelInfoMessage(info: ModelInfo): ProtoModelInfo {
  return create(ModelInfoSchema, {
    version: info.version,
    backbone: info.backbone,
    featureShape: [...info.featureShape],
    coresetSize: BigInt(info.coresetSize),
    scoringMode: info.mode,
    threshold: info.threshold,
    thresholdRule: info.thresholdRule,
    thresholdMethod: info.thresholdMethod,
    executionProvider: info.executionProvider,
    inputSize: info.inputSize,
    // One-field oneofs (presence without proto3 `optional`; see detector.proto).
    optionalTau: info.tau !== undefined ? { case: "tau", value: info.tau } : { case: undefined },
    optionalK: info.k !== undefined ? { case: "k", value: info.k } : { case: undefined },
    optionalDeltaT: info.deltaT !== undefined ? { case: "deltaT", value: info.deltaT } : { case: undefined },
    optionalSteps: info.steps !== undefined ? { case: "steps", value: info.steps } : { case: undefined },
    optionalDetailWeight: info.detailWeight !== undefined ? { case: "detailWeight", value: info.detailWeight } : { case: undefined },
    detailClassWeights: { ...info.detailClassWeights },
    detailImageClassWeights: { ...info.detailImageClassWeights },
    contextClassWeights: { ...info.context?.classWeights },
    contextImageClassWeights: { ...info.context?.imageClassWeights },
    edgeCorrectedClasses: [...(info.edgeCorrectedClasses ?? [])],
    sizeCorrectedClasses: [...(info.sizeCorrectedClasses ?? [])],
    profiledClasses: [...(info.profiledClasses ?? [])],
    alikeClasses: Object.fromEntries(Object.entries(info.alikeClasses ?? {}).map(([cls, others]) => [cls, create(ClassListSchema, { classes: [...others] })])),
    unlikeMargin: info.unlikeMargin ?? 0,
    lookGatedClasses: [...(info.lookGatedClasses ?? [])],
    tiledClasses: Object.fromEntries(Object.entries(info.tiledClasses ?? {}).map(([cls, t]) => [cls, create(TiledClassSchema, { grid: t.grid, overlap: t.overlap, frameThreshold: t.frameThreshold, scoringMode: t.mode, mapOnly: t.mapOnly })])),
    optionalContextLambda: info.context ? { case: "contextLambda", value: info.context.lambda } : { case: undefined },
    optionalContextWeight: info.context && info.context.weight > 0 ? { case: "contextWeight", value: info.context.weight } : { case: undefined },
    classThresholds: { ...info.classThresholds },
    classes: [...info.classes],
  });
}

function shuttingDown(): LafiteError {
  return new LafiteError(ErrorCode.SHUTTING_DOWN, "daemon is shutting down; retry on another instance or after restart");
}

/** An AbortSignal that fires when a unary call is cancelled or its deadline passes. */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onCancel = () => controller.abort();
  call.on("cancelled", onCancel);
  if (call.cancelled) controller.abort();
  return { signal: controller.signal, dispose: () => call.off("cancelled", onCancel) };
}
