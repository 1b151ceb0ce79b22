/**
 * The daemon's gRPC server and its life: listen → load model → serving →
 * (reload)* → shutdown. The Detector comes from an injected provider, so
 * tests run the real server with a fake detector.
 *
 * Shutdown, in named stages: refuse (health NOT_SERVING, new calls
 * UNAVAILABLE) → drain (admitted frames are answered, streams end) →
 * tryShutdown with the rest of the grace period → forceShutdown → close the
 * model.
 */
import * as grpc from "@grpc/grpc-js";
import { Detector as DetectorDesc, file_lafited_v1_detector } from "../gen/lafited/v1/detector_pb.js";
import { Health, file_grpc_health_v1_health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1, file_grpc_reflection_v1_reflection } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1alpha, file_grpc_reflection_v1alpha_reflection } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { addService } from "./grpc-adapter.js";
import { DetectorService } from "./detector-service.js";
import { DetectorSlot } from "./detector-slot.js";
import { FrameQueue, type QueueStats } from "./frame-queue.js";
import { HealthService, ServingStatus } from "./health-service.js";
import { ReflectionService } from "./reflection-service.js";
import { ModelAdmin, file_lafited_v1_admin } from "../gen/lafited/v1/admin_pb.js";
import { AdminService } from "./admin-service.js";
import { FrameCache } from "./frame-cache.js";
import { Verdict } from "../gen/lafited/v1/detector_pb.js";
import type { Lifecycle } from "../lifecycle/lifecycle.js";
import type { Config } from "../config/schema.js";
import type { Detector, ModelInfo } from "../pipeline/types.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import type { Logger } from "../util/log.js";

/** Makes the Detector for a config (the real one loads a bundle; tests pass a fake). */
export type DetectorProvider = (config: Readonly<Config>, context: { signal: AbortSignal; log: Logger }) => Promise<Detector>;

export interface LafitedServerOptions {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly provider: DetectorProvider;
  /** Re-reads the configuration for reload(); without it reload keeps the current config. */
  readonly reloadConfig?: () => Readonly<Config>;
  /**
   * Model administration (lafited.v1.ModelAdmin): the lifecycle, opened by
   * the caller and closed by the server's shutdown, and how to load a bundle
   * folder into a checked Detector for activation.
   */
  readonly lifecycle?: {
    readonly lifecycle: Lifecycle;
    readonly loadBundle: (bundleDir: string) => Promise<Detector>;
  };
}

export type ServerState = "created" | "listening" | "serving" | "stopping" | "stopped";

export const DETECTOR_SERVICE = DetectorDesc.typeName;
export const ADMIN_SERVICE = ModelAdmin.typeName;
export const SERVICE_NAMES: readonly string[] = [DetectorDesc.typeName, Health.typeName, ReflectionV1.typeName, ReflectionV1alpha.typeName];

export class LafitedServer {
  private _state: ServerState = "created";
  private config: Readonly<Config>;
  private readonly log: Logger;
  private readonly grpcServer: grpc.Server;
  private readonly slot: DetectorSlot;
  private readonly queue: FrameQueue;
  readonly health: HealthService;
  private readonly detectorService: DetectorService;
  private readonly admin: AdminService | undefined;
  /** Recent scored frames, for ModelAdmin's accept-by-id (only with a lifecycle). */
  readonly frameCache: FrameCache | undefined;
  private readonly lifetime = new AbortController();
  private reloading: Promise<ModelInfo | undefined> | undefined;
  private stopping: Promise<void> | undefined;
  private _port = 0;
  private markStopped!: () => void;
  /** Resolves when every shutdown stage has run (whoever started the shutdown). */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.markStopped = resolve));

  constructor(private readonly options: LafitedServerOptions) {
    this.config = options.config;
    this.log = options.log;
    const c = this.config;
    this.grpcServer = new grpc.Server({
      "grpc.max_receive_message_length": c.server.maxReceiveMessageBytes,
      "grpc.max_send_message_length": c.server.maxSendMessageBytes,
      "grpc.keepalive_time_ms": c.server.keepalive.timeMs,
      "grpc.keepalive_timeout_ms": c.server.keepalive.timeoutMs,
    });
    this.slot = new DetectorSlot((err) => this.log.error({ err }, "closing a replaced model failed"));
    this.queue = new FrameQueue(c.queue.concurrency, c.queue.maxWaiting);
    const lc = options.lifecycle;
    this.health = new HealthService(lc ? [DETECTOR_SERVICE, ADMIN_SERVICE] : [DETECTOR_SERVICE]);
    const cache = lc && c.frameCache.maxBytes > 0 ? new FrameCache(c.frameCache.maxBytes, c.frameCache.maxAgeMs) : undefined;
    this.frameCache = cache;
    this.detectorService = new DetectorService({
      slot: this.slot,
      queue: this.queue,
      maxPixels: c.limits.maxPixels,
      maxRegions: c.limits.maxRegions,
      perStream: c.queue.perStream,
      log: this.log,
      ...(cache
        ? {
            onScored: ({ request, frame, response, origin }) =>
              cache.put({
                frameId: request.frameId,
                origin,
                frame: frame.frame,
                score: response.score,
                threshold: response.threshold,
                anomalous: response.verdict === Verdict.NG,
                modelVersion: response.modelVersion,
                classTag: request.classTag,
              }),
          }
        : {}),
    });
    const files = [file_lafited_v1_detector, file_grpc_health_v1_health, file_grpc_reflection_v1_reflection, file_grpc_reflection_v1alpha_reflection];
    const reflection = new ReflectionService(lc ? [...files, file_lafited_v1_admin] : files, lc ? [...SERVICE_NAMES, ADMIN_SERVICE] : SERVICE_NAMES);
    addService(this.grpcServer, DetectorDesc, this.detectorService.impl);
    if (lc) {
      this.admin = new AdminService({
        lifecycle: lc.lifecycle,
        cache: cache ?? new FrameCache(0, 0),
        scoreImage: (bytes, classTag) => this.scoreImage(bytes, classTag),
        allowRemote: c.admin.allowRemote,
        log: this.log.child({ service: "admin" }),
      });
      addService(this.grpcServer, ModelAdmin, this.admin.impl);
      lc.lifecycle.attachHost({
        load: async (dir) => {
          const detector = await lc.loadBundle(dir);
          return { version: detector.info.version, serve: () => this.useDetector(detector), discard: () => detector.close() };
        },
      });
    }
    addService(this.grpcServer, Health, this.health.impl);
    addService(this.grpcServer, ReflectionV1, reflection.implV1);
    addService(this.grpcServer, ReflectionV1alpha, reflection.implV1alpha);
  }

  get state(): ServerState {
    return this._state;
  }

  /** The bound port (useful with listen port 0). */
  get port(): number {
    return this._port;
  }

  get modelInfo(): ModelInfo | undefined {
    return this.slot.info;
  }

  get stats(): { queue: QueueStats; openStreams: number } {
    return { queue: this.queue.stats, openStreams: this.detectorService.openStreams };
  }

  /** Stage "listen": binds the configured address; health is NOT_SERVING until a model is loaded. */
  async listen(): Promise<number> {
    if (this._state !== "created") throw new LafiteError(ErrorCode.INTERNAL, `listen() called in state ${this._state}`);
    const address = this.config.listen;
    this._port = await new Promise<number>((resolve, reject) => {
      this.grpcServer.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) reject(new LafiteError(ErrorCode.INVALID_CONFIG, `cannot listen on ${address} (config key listen): ${err.message}`, { cause: err }));
        else resolve(port);
      });
    });
    this._state = "listening";
    this.log.info({ listen: address, port: this._port }, "listening");
    return this._port;
  }

  /** Stage "load model": asks the provider for a detector and serves it; then job schedules start. */
  async loadModel(): Promise<ModelInfo> {
    const info = await this.reload({ rereadConfig: false, initial: true });
    if (info === undefined) throw new LafiteError(ErrorCode.NO_MODEL, "no model was loaded");
    this.options.lifecycle?.lifecycle.startSchedules();
    return info;
  }

  /** Scores one encoded image with the model in service, through the frame queue (ModelAdmin's images). */
  private scoreImage(bytes: Uint8Array, classTag: string): Promise<{ score: number; threshold: number; modelVersion: string }> {
    if (!this.slot.loaded) this.slot.acquire(); // NO_MODEL before taking a queue slot
    return this.queue.run(async () => {
      const lease = this.slot.acquire();
      try {
        const d = await lease.detector.detect({ kind: "encoded", bytes }, classTag ? { classTag } : {});
        return { score: d.score, threshold: d.threshold, modelVersion: lease.detector.info.version };
      } finally {
        lease.release();
      }
    }, this.lifetime.signal);
  }

  /** Serves `detector` at once (tests, or a caller that loaded it itself). */
  useDetector(detector: Detector): void {
    if (this._state === "stopping" || this._state === "stopped") {
      void detector.close();
      throw new LafiteError(ErrorCode.SHUTTING_DOWN, "server is shutting down");
    }
    const prev = this.slot.swap(detector);
    this._state = "serving";
    this.health.setAll(ServingStatus.SERVING);
    this.log.info({ model: detector.info.version, mode: detector.info.mode, previous: prev?.version, ep: detector.info.executionProvider }, "model in service");
  }

  /**
   * SIGHUP: re-reads the config and loads the bundle again, then swaps the
   * detector atomically; open streams keep going and frames in flight finish
   * on the old model. If loading fails the old model stays in service.
   * Settings that need a new listener or queue (listen, server.*, queue.*,
   * limits.*) and the lifecycle's (admin.*, frameCache.*, ledger.*,
   * promotion.*, jobs.*) are reported and wait for a restart. With a
   * lifecycle the provider loads the registry's active version again.
   */
  reload(options: { rereadConfig?: boolean; initial?: boolean } = {}): Promise<ModelInfo | undefined> {
    if (this.reloading) return this.reloading;
    this.reloading = (async () => {
      try {
        if (options.rereadConfig !== false && this.options.reloadConfig) {
          const next = this.options.reloadConfig();
          this.reportRestartOnly(next);
          if (next.log.level !== this.config.log.level) this.log.level = next.log.level;
          this.config = next;
        }
        const started = performance.now();
        const detector = await this.options.provider(this.config, { signal: this.lifetime.signal, log: this.log });
        if (this.lifetime.signal.aborted) {
          await detector.close();
          return undefined;
        }
        this.useDetector(detector);
        this.log.info({ ms: Math.round(performance.now() - started) }, options.initial ? "model loaded" : "reloaded");
        return detector.info;
      } catch (err) {
        if (options.initial) throw err;
        this.log.error({ err }, "reload failed; the previous model stays in service");
        return undefined;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Runs every shutdown stage once; later calls wait for the first. */
  shutdown(graceMs = this.config.server.shutdownGraceMs): Promise<void> {
    this.stopping ??= this.stop(graceMs);
    return this.stopping;
  }

  private async stop(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    this._state = "stopping";
    this.lifetime.abort();
    this.log.info({ graceMs, openStreams: this.detectorService.openStreams }, "shutting down: refusing new work");
    this.health.setAll(ServingStatus.NOT_SERVING);
    this.health.endWatches();
    // Stop cron and the running job first: nothing new may start while the server drains.
    // An accept in progress finishes (its row commits and it is answered) before the database closes.
    const lifecycle = this.options.lifecycle?.lifecycle;
    const lifecycleClosed = lifecycle
      ? (this.admin?.stop() ?? Promise.resolve()).then(() => lifecycle.close()).catch((err: unknown) => this.log.error({ err }, "closing the lifecycle failed"))
      : undefined;

    await this.detectorService.drain(graceMs);
    await Promise.race([this.queue.idle(), sleep(Math.max(0, deadline - performance.now()))]);
    this.log.info({ queue: this.queue.stats }, "shutting down: drained");

    const rest = Math.max(0, deadline - performance.now());
    const graceful = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), rest);
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!graceful) {
      this.log.warn("shutting down: grace period over, closing remaining connections");
      this.grpcServer.forceShutdown();
    }
    if (this.reloading) await this.reloading.catch(() => undefined);
    await lifecycleClosed;
    await this.slot.closeAll();
    this._state = "stopped";
    this.log.info("stopped");
    this.markStopped();
  }

  private reportRestartOnly(next: Readonly<Config>): void {
    const cur = this.config;
    const changed = (["listen", "server", "queue", "limits", "admin", "frameCache", "ledger", "promotion", "jobs"] as const).filter((k) => JSON.stringify(cur[k]) !== JSON.stringify(next[k]));
    if (changed.length > 0) this.log.warn({ keys: changed }, "config changes that take effect only after a restart");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
