/**
 * lafited's Prometheus metrics, in one registry per server (not prom-client's
 * global one, so tests and several servers in one process do not collide).
 * Every metric is documented in docs/metrics.md.
 *
 * Other parts of the daemon (the model lifecycle: job runs, accepted frames)
 * add their own through counter()/gauge()/histogram(), which return the
 * existing metric when the name is already registered.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from "prom-client";
import type { DetectResponse } from "../gen/lafited/v1/detector_pb.js";
import { Verdict } from "../gen/lafited/v1/detector_pb.js";
import type { ModelInfo } from "../pipeline/types.js";
import { readAsAnotherClass } from "../pipeline/class-tag.js";
import { errorCodeOf } from "../util/errors.js";

/** What the metrics read of the server's frame queue (its FrameQueue stats and configured capacity). */
export interface QueueReading {
  readonly running: number;
  readonly waiting: number;
  /** Frames refused because the queue was full, since the start: the counter's source. */
  readonly refused: number;
  readonly maxWaiting: number;
  readonly concurrency: number;
}

/** What the metrics read from the server at scrape time (declared here: the server depends on metrics, not the reverse). */
export interface MetricsSource {
  readonly queue: () => QueueReading;
  readonly openStreams: () => number;
  readonly model: () => ModelInfo | undefined;
}

/** Seconds; from 1 ms (the fake detector, a cache hit) to 30 s (a 4K frame on a slow CPU). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Look ratios: normals mostly under 1, the default unlike margin 1.5, frames like no product at 1.6–16. */
const LOOK_RATIO_BUCKETS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, 10];

/** The stages of StageTimings, in the order a frame meets them. */
const STAGES = ["queue", "decode", "backbone", "edit", "diffusion", "score", "render"] as const;

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly frames: Counter<"outcome">;
  private readonly classMismatches: Counter<"class_tag" | "frame_class">;
  private readonly unlike: Counter<"frame_class">;
  private readonly lookRatio: Histogram<"frame_class">;
  private readonly stageSeconds: Histogram<"stage">;
  private readonly frameSeconds: Histogram;
  private readonly rateLimited: Counter<"limit">;
  private readonly callsRefused: Counter<"code">;

  constructor(source: MetricsSource, options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "lafited_" });
    this.frames = this.counter({ name: "lafited_frames_total", help: "Frames answered, by outcome: OK, NG, or the error code (INVALID_INPUT, OVERLOADED, RATE_LIMITED, ...)", labelNames: ["outcome"] });
    this.classMismatches = this.counter({
      name: "lafited_frames_class_mismatch_total",
      help: "Answered frames whose class tag names one of the model's classes (they are judged as it) but whose features read as another class (DetectResponse.frame_class): a wrong part on the line, a wrong recipe, or a class the model confuses; by tag and read class",
      labelNames: ["class_tag", "frame_class"],
    });
    this.unlike = this.counter({
      name: "lafited_frames_unlike_total",
      help: "Answered frames like none of the model's classes (DetectResponse.unlike_any_class: their look over the unlike margin from the class they read as, NG whatever their score): an empty station, a covered lens, a new product; by the class read",
      labelNames: ["frame_class"],
    });
    this.lookRatio = this.histogram({
      name: "lafited_frame_look_ratio",
      help: "Answered frames' look ratio (DetectResponse.look_ratio: how far a frame's mean features lie from the mean of the class it reads as, in that class's reach, or its light outside that class's range when farther; about 1 or less for its normals), by the class read; a class whose frames creep towards the unlike margin is drifting (light, camera, material) before they turn NG",
      labelNames: ["frame_class"],
      buckets: LOOK_RATIO_BUCKETS,
    });
    this.stageSeconds = this.histogram({ name: "lafited_stage_duration_seconds", help: "Time per pipeline stage of answered frames", labelNames: ["stage"], buckets: LATENCY_BUCKETS });
    this.frameSeconds = this.histogram({ name: "lafited_frame_duration_seconds", help: "End-to-end time of answered frames, from arrival to response", buckets: LATENCY_BUCKETS });
    this.rateLimited = this.counter({ name: "lafited_limit_refusals_total", help: "Streams and frames refused by a per-client limit, by limit (config limits.<limit>)", labelNames: ["limit"] });
    this.callsRefused = this.counter({ name: "lafited_calls_refused_total", help: "Calls refused before reaching a handler, by code (UNAUTHENTICATED, PERMISSION_DENIED, RATE_LIMITED)", labelNames: ["code"] });

    let lastRefused = 0;
    const refused = this.counter({ name: "lafited_queue_refusals_total", help: "Frames refused because the daemon-wide frame queue was full (queue.maxWaiting)" });
    this.gauge({
      name: "lafited_queue_frames",
      help: "Frames in the daemon-wide queue now, by state: running (in the pipeline) or waiting",
      labelNames: ["state"],
      collect() {
        const q = source.queue();
        this.set({ state: "running" }, q.running);
        this.set({ state: "waiting" }, q.waiting);
        if (q.refused > lastRefused) refused.inc(q.refused - lastRefused);
        lastRefused = q.refused;
      },
    });
    this.gauge({
      name: "lafited_queue_capacity_frames",
      help: "Queue capacity from config: running = queue.concurrency, waiting = queue.maxWaiting",
      labelNames: ["state"],
      collect() {
        const q = source.queue();
        this.set({ state: "running" }, q.concurrency);
        this.set({ state: "waiting" }, q.maxWaiting);
      },
    });
    this.gauge({
      name: "lafited_open_streams",
      help: "Open Detect streams",
      collect() {
        this.set(source.openStreams());
      },
    });
    this.gauge({
      name: "lafited_model_info",
      help: "The model in service (value 1), labelled with its version, scoring mode, backbone and execution provider; absent while no model is loaded",
      labelNames: ["version", "mode", "backbone", "execution_provider"],
      collect() {
        this.reset();
        const m = source.model();
        if (m !== undefined) this.set({ version: m.version, mode: m.mode, backbone: m.backbone, execution_provider: m.executionProvider }, 1);
      },
    });
    this.gauge({
      name: "lafited_model_bank_rows",
      help: "Rows in the memory bank of the model in service, labelled with its version: fit's coreset, grown by refresh jobs up to memory.maxCoresetSize × (1 + memory.refreshHeadroom); absent while no model is loaded",
      // Labelled so that it can be absent: prom-client always prints an unlabelled gauge.
      labelNames: ["version"],
      collect() {
        this.reset();
        const m = source.model();
        if (m !== undefined) this.set({ version: m.version }, m.coresetSize);
      },
    });
    this.gauge({
      name: "lafited_model_detail_weight",
      help: "Weight W of the detail bank (a second nearest-neighbour search over the fine backbone stages) in the model in service, labelled with its version; 0 when it is not used, absent while no model is loaded",
      labelNames: ["version"],
      collect() {
        this.reset();
        const m = source.model();
        if (m !== undefined) this.set({ version: m.version }, m.detailWeight ?? 0);
      },
    });
    this.classGauge(
      source,
      "lafited_model_detail_class_weight",
      "The detail bank's weight W per class in the model in service, when tuning chose one per class (a frame gets the W of the class it is judged as: its class tag, else the class it reads as), labelled with its version and class; absent otherwise",
      (m) => m.detailClassWeights,
    );
    this.classGauge(
      source,
      "lafited_model_detail_image_class_weight",
      "The detail bank's weight W for the image score (and so the verdict) per class in the model in service, for the classes where it differs from lafited_model_detail_class_weight (which then sets only the heatmap's), labelled with its version and class; absent otherwise",
      (m) => m.detailImageClassWeights,
    );
    this.classGauge(
      source,
      "lafited_model_context_class_weight",
      "The context bank's weight W per class in the model in service, for the classes it holds rows of, when any frame can get one (a frame gets its class tag's W, else the largest W among the classes holding a fifth of its nearest-row votes), labelled with its version and class; absent otherwise",
      (m) => m.context?.classWeights,
    );
    this.classGauge(
      source,
      "lafited_model_context_image_class_weight",
      "The context bank's weight W for the image score (and so the verdict) per class in the model in service, for the classes where it differs from lafited_model_context_class_weight (which then sets only the heatmap's), labelled with its version and class; absent otherwise",
      (m) => m.context?.imageClassWeights,
    );
    this.classGauge(
      source,
      "lafited_model_position_profiled",
      "1 for each class of the model in service whose image score is standardized by its position profile (its held-out normals' map mean and spread at every place; its threshold is in those units), labelled with its version and class; absent for the other classes",
      (m) => (m.profiledClasses?.length ? Object.fromEntries(m.profiledClasses.map((cls) => [cls, 1])) : undefined),
    );
    this.classGauge(
      source,
      "lafited_model_class_threshold",
      "The verdict threshold per class of the model in service (threshold.perClass: a frame judged as the class, by its class tag or else as the class it reads as, is judged by it), labelled with its version and class; absent for a model without them",
      (m) => m.classThresholds,
    );
  }

  /** A gauge of one value per class of the model in service (`pick`), labelled with its version and class; absent while `pick` gives none. */
  private classGauge(source: MetricsSource, name: string, help: string, pick: (m: ModelInfo) => Readonly<Record<string, number>> | undefined): void {
    this.gauge({
      name,
      help,
      labelNames: ["version", "class"],
      collect() {
        this.reset();
        const m = source.model();
        for (const [cls, v] of Object.entries((m && pick(m)) ?? {})) this.set({ version: m!.version, class: cls }, v);
      },
    });
  }

  /** Records one answered frame. */
  frameAnswered(res: DetectResponse): void {
    this.frames.inc({ outcome: res.verdict === Verdict.NG ? "NG" : "OK" });
    // Only a class tag the model knows judges a frame as another class than it reads as, so both labels are the model's classes.
    if (readAsAnotherClass({ class: res.frameClass, judgedAs: res.judgedClass })) this.classMismatches.inc({ class_tag: res.judgedClass, frame_class: res.frameClass });
    if (res.unlikeAnyClass) this.unlike.inc({ frame_class: res.frameClass });
    // 0: the model has no reach for the frame's class (or reads none), so there is nothing to observe.
    if (res.lookRatio > 0) this.lookRatio.observe({ frame_class: res.frameClass }, res.lookRatio);
    const t = res.timings;
    if (t === undefined) return;
    const ms: Record<(typeof STAGES)[number], number> = {
      queue: t.queueMs,
      decode: t.decodeMs,
      backbone: t.backboneMs,
      edit: t.editMs,
      diffusion: t.diffusionMs,
      score: t.scoreMs,
      render: t.renderMs,
    };
    for (const stage of STAGES) this.stageSeconds.observe({ stage }, ms[stage] / 1000);
    this.frameSeconds.observe(t.totalMs / 1000);
  }

  /** Records one frame that failed with `err` (its code is the outcome). */
  frameFailed(err: unknown): void {
    this.frames.inc({ outcome: errorCodeOf(err) });
  }

  limitRefused(limit: string): void {
    this.rateLimited.inc({ limit });
  }

  callRefused(code: string): void {
    this.callsRefused.inc({ code });
  }

  /** A counter in this registry; the existing one if `name` is taken. */
  counter<L extends string>(config: Omit<CounterConfiguration<L>, "registers">): Counter<L> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing !== undefined) return existing as Counter<L>;
    return new Counter<L>({ ...config, registers: [this.registry] });
  }

  /** A gauge in this registry; the existing one if `name` is taken. */
  gauge<L extends string>(config: Omit<GaugeConfiguration<L>, "registers">): Gauge<L> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing !== undefined) return existing as Gauge<L>;
    return new Gauge<L>({ ...config, registers: [this.registry] });
  }

  /** A histogram in this registry; the existing one if `name` is taken. */
  histogram<L extends string>(config: Omit<HistogramConfiguration<L>, "registers">): Histogram<L> {
    const existing = this.registry.getSingleMetric(config.name);
    if (existing !== undefined) return existing as Histogram<L>;
    return new Histogram<L>({ ...config, registers: [this.registry] });
  }
}
