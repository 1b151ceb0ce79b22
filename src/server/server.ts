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
import { callGuard } from "./call-guard.js";
import { loadCredentials, type Credentials } from "./auth/tokens.js";
import { ClientLimits } from "./limits/client-limits.js";
import { readTlsMaterial } from "./tls/tls-material.js";
import { ReloadableCertificateProvider, reloadableServerCredentials } from "./tls/reloadable-credentials.js";
import { checkTransportPolicy } from "./transport-policy.js";
import { DaemonMetrics } from "../metrics/daemon-metrics.js";
import { startMetricsListener, type MetricsListener, type Readiness } from "../metrics/http-listener.js";

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
  // Hardening (issue 11): credentials and certificates are re-read on reload; limits and the metrics listener need a restart.
  private credentials: Credentials;
  private readonly limits: ClientLimits;
  private certificates: ReloadableCertificateProvider | undefined;
  private metricsListener: MetricsListener | undefined;
  readonly metrics: DaemonMetrics;
  private markStopped!: () => void;
  /** Resolves when every shutdown stage has run (whoever started the shutdown). */
  readonly stopped: Promise<void> = new Promise((resolve) => (this.markStopped = resolve));

  constructor(private readonly options: LafitedServerOptions) {
    this.config = options.config;
    this.log = options.log;
    const c = this.config;
    this.credentials = loadCredentials(c.auth);
    this.queue = new FrameQueue(c.queue.concurrency, c.queue.maxWaiting);
    this.metrics = new DaemonMetrics({
      queue: () => ({ ...this.queue.stats, maxWaiting: c.queue.maxWaiting, concurrency: c.queue.concurrency }),
      openStreams: () => this.detectorService.openStreams,
      model: () => this.slot.info,
    });
    this.limits = new ClientLimits(c.limits, (limit) => this.metrics.limitRefused(limit));
    const guard = callGuard({
      credentials: () => this.credentials,
      open: () => this.config.auth,
      limits: () => this.limits,
      log: this.log,
      onRefused: (code) => this.metrics.callRefused(code),
    });
    this.grpcServer = new grpc.Server({
      interceptors: [guard],
      "grpc.max_receive_message_length": c.server.maxReceiveMessageBytes,
      "grpc.max_send_message_length": c.server.maxSendMessageBytes,
      "grpc.keepalive_time_ms": c.server.keepalive.timeMs,
      "grpc.keepalive_timeout_ms": c.server.keepalive.timeoutMs,
    });
    this.slot = new DetectorSlot((err) => this.log.error({ err }, "closing a replaced model failed"));
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
      // Read per frame: a reload (SIGHUP) applies a new policy, as it does the rest of model.*.
      classTagMismatch: () => this.config.model.classTagMismatch,
      log: this.log,
      observer: { answered: (res) => this.metrics.frameAnswered(res), failed: (err) => this.metrics.frameFailed(err) },
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
                frameClass: response.frameClass,
                lookRatio: response.lookRatio,
                lightRatio: response.lightRatio,
                unlike: response.unlikeAnyClass,
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
        modelClasses: () => this.slot.info?.classes ?? [],
        alikeClasses: () => this.slot.info?.alikeClasses,
        // With auth configured, the interceptor already demanded the admin scope: the loopback rule is for daemons without auth.
        allowRemote: () => c.admin.allowRemote || this.credentials.configured,
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
    for (const warning of checkTransportPolicy(this.config, this.credentials.configured).warnings) this.log.warn(warning);
    const tls = readTlsMaterial(this.config.server.tls);
    if (tls !== null) this.certificates = new ReloadableCertificateProvider(tls);
    const credentials = this.certificates ? reloadableServerCredentials(this.certificates) : grpc.ServerCredentials.createInsecure();
    if (this.config.metrics.listen !== null) {
      this.metricsListener = await startMetricsListener(this.config.metrics.listen, this.metrics, () => this.readiness());
      this.log.info({ metrics: this.config.metrics.listen, port: this.metricsListener.port }, "metrics listening");
    }
    this._port = await new Promise<number>((resolve, reject) => {
      this.grpcServer.bindAsync(address, credentials, (err, port) => {
        if (err) reject(new LafiteError(ErrorCode.INVALID_CONFIG, `cannot listen on ${address} (config key listen): ${err.message}`, { cause: err }));
        else resolve(port);
      });
    });
    this._state = "listening";
    this.log.info(
      { listen: address, port: this._port, tls: tls === null ? false : { subject: tls.subject, validTo: tls.validTo, clientCa: tls.clientCa !== null }, auth: this.credentials.configured },
      "listening",
    );
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
  private scoreImage(bytes: Uint8Array, classTag: string): Promise<{ score: number; threshold: number; modelVersion: string; readAs?: string; lookRatio?: number; lightRatio?: number; unlike?: boolean }> {
    if (!this.slot.loaded) this.slot.acquire(); // NO_MODEL before taking a queue slot
    return this.queue.run(async () => {
      const lease = this.slot.acquire();
      try {
        const d = await lease.detector.detect({ kind: "encoded", bytes }, classTag ? { classTag } : {});
        return {
          score: d.score,
          threshold: d.threshold,
          modelVersion: lease.detector.info.version,
          ...(d.class !== undefined ? { readAs: d.class } : {}),
          ...(d.lookRatio !== undefined ? { lookRatio: d.lookRatio } : {}),
          ...(d.lightRatio !== undefined ? { lightRatio: d.lightRatio } : {}),
          ...(d.unlike ? { unlike: true } : {}),
        };
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
          this.reloadSecurity(next);
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
    await this.metricsListener?.close();
    this._state = "stopped";
    this.log.info("stopped");
    this.markStopped();
  }

  /**
   * Re-reads the TLS files and the credentials of `next`. Each part that fails
   * its checks keeps the previous one in service (and is logged with the
   * config key), like a model that fails to load.
   */
  private reloadSecurity(next: Readonly<Config>): void {
    if (this.certificates) {
      try {
        const tls = readTlsMaterial(next.server.tls);
        if (tls !== null) {
          this.certificates.update(tls);
          this.log.info({ subject: tls.subject, validTo: tls.validTo, fingerprint256: tls.fingerprint256 }, "TLS certificate reloaded; new connections use it");
        }
      } catch (err) {
        this.log.error({ err }, "TLS reload failed; the previous certificate stays in service");
      }
    }
    try {
      this.credentials = loadCredentials(next.auth);
      this.log.info({ tokens: this.credentials.tokenCount }, "credentials reloaded");
    } catch (err) {
      this.log.error({ err }, "credentials reload failed; the previous ones stay in service");
    }
  }

  /** /readyz: a model is loaded and the frame queue has room. */
  readiness(): Readiness {
    if (this._state !== "serving" || this.slot.info === undefined) return { ready: false, reason: `not ready: state ${this._state}, no model in service` };
    const q = this.queue.stats;
    if (q.waiting >= this.config.queue.maxWaiting) return { ready: false, reason: `not ready: frame queue saturated (${q.waiting} waiting, queue.maxWaiting ${this.config.queue.maxWaiting})` };
    return { ready: true, reason: `ready: model ${this.slot.info.version}, ${q.running} running, ${q.waiting} waiting` };
  }

  /** The certificate served to new connections (undefined without TLS). */
  get certificate(): { subject: string; fingerprint256: string } | undefined {
    const m = this.certificates?.current;
    return m === undefined ? undefined : { subject: m.subject, fingerprint256: m.fingerprint256 };
  }

  /** The metrics listener's bound port (0 when metrics.listen is null). */
  get metricsPort(): number {
    return this.metricsListener?.port ?? 0;
  }

  private reportRestartOnly(next: Readonly<Config>): void {
    const cur = this.config;
    // TLS files are re-read on reload; turning TLS or client certificates on or off needs a new listener.
    const restartOnly = (c: Readonly<Config>) => ({
      listen: c.listen,
      server: { ...c.server, tls: { on: c.server.tls.cert !== null, clientCa: c.server.tls.clientCa !== null, requireClientCert: c.server.tls.requireClientCert } },
      queue: c.queue,
      limits: c.limits,
      metrics: c.metrics,
      admin: c.admin,
      frameCache: c.frameCache,
      ledger: c.ledger,
      promotion: c.promotion,
      jobs: c.jobs,
    });
    const [a, b] = [restartOnly(cur), restartOnly(next)];
    const changed = (Object.keys(a) as (keyof typeof a)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    if (changed.length > 0) this.log.warn({ keys: changed }, "config changes that take effect only after a restart");
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
