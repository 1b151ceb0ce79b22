/**
 * A deterministic Detector for protocol tests and the bench fallback: it
 * decodes real images (sharp) and raw frames, and scores a frame by its mean
 * brightness in [0, 1]; the anomaly map is each pixel's brightness. Bad
 * images throw INVALID_INPUT like the real pipeline.
 */
import sharp from "sharp";
import type { Detection, DetectOptions, Detector, FrameInput, ModelInfo } from "../../../src/pipeline/types.js";
import { LafiteError, ErrorCode, invalidInput } from "../../../src/util/errors.js";

export interface FakeDetectorOptions {
  readonly version?: string;
  readonly threshold?: number;
  /** Extra milliseconds per frame, to make queues fill. */
  readonly delayMs?: number;
  readonly maxPixels?: number;
  /** The class every frame reads as (absent: none read); a frame tagged with one of info.classes is judged as its tag, as BundleDetector does. */
  readonly readAs?: string;
  /** ModelInfo.alikeClasses: the classes that look alike to the model (model.classTagMismatch: distinct). */
  readonly alikeClasses?: Readonly<Record<string, readonly string[]>>;
  /** Every frame's look ratio, and the model's unlike margin (ModelInfo.unlikeMargin): a frame over it is unlike any class. */
  readonly lookRatio?: number;
  readonly unlikeMargin?: number;
  /** Every frame's light ratio (its look ratio when not given is the light's). */
  readonly lightRatio?: number;
}

export class FakeDetector implements Detector {
  readonly info: ModelInfo;
  closed = false;
  frames = 0;
  /** Calls of a detection's frameMap(): the maps the server asked for. */
  mapCalls = 0;
  /** Frames inside detect() right now, and the most ever. */
  active = 0;
  peakActive = 0;

  constructor(private readonly options: FakeDetectorOptions = {}) {
    this.info = {
      version: options.version ?? "fake-1",
      backbone: "fake-brightness",
      featureShape: [1, 1, 1],
      // Any count: the metrics test reads it back from lafited_model_bank_rows.
      coresetSize: 1234,
      mode: "knn",
      threshold: options.threshold ?? 0.5,
      thresholdRule: "normal-quantile",
      thresholdMethod: "fixed by the fake detector",
      executionProvider: "cpu",
      inputSize: 0,
      // Read back from lafited_model_detail_weight and lafited_model_detail_class_weight.
      detailWeight: 0.25,
      detailClassWeights: { plate: 0.5, "hex nut": 0 },
      // Read back from lafited_model_detail_image_class_weight and `lafite info`.
      detailImageClassWeights: { plate: 0 },
      classes: ["plate", "hex nut"],
      ...(options.alikeClasses ? { alikeClasses: options.alikeClasses } : {}),
      ...(options.unlikeMargin !== undefined ? { unlikeMargin: options.unlikeMargin, lookGatedClasses: ["plate"] } : {}),
      // Read back from lafited_model_context_class_weight, lafited_model_context_image_class_weight and `lafite info`.
      context: { lambda: 4, weight: 0, classWeights: { plate: 0.5 }, imageClassWeights: { plate: 1 } },
      edgeCorrectedClasses: ["plate"],
      // Read back from lafited_model_position_profiled.
      profiledClasses: ["hex nut"],
      // Read back from `lafite info` and its --json.
      tiledClasses: { plate: { grid: 4, overlap: 0, frameThreshold: 2.5, mode: "lafite", mapOnly: false }, "hex nut": { grid: 2, overlap: 0.25, frameThreshold: 3, mode: "knn", mapOnly: true } },
    };
  }

  async detect(frame: FrameInput, options: DetectOptions = {}): Promise<Detection> {
    if (this.closed) throw new LafiteError(ErrorCode.INTERNAL, "fake detector used after close()");
    this.active++;
    this.peakActive = Math.max(this.peakActive, this.active);
    try {
      const t0 = performance.now();
      const { width, height, gray } = await decodeGray(frame, this.options.maxPixels ?? 7680 * 4320);
      const t1 = performance.now();
      if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs));
      let sum = 0;
      for (const v of gray) sum += v;
      const score = gray.length > 0 ? sum / gray.length / 255 : 0;
      const threshold = options.threshold ?? this.info.threshold;
      this.frames++;
      const judgedAs = options.classTag !== undefined && this.info.classes.includes(options.classTag) ? options.classTag : this.options.readAs;
      return {
        score,
        threshold,
        isAnomalous: score >= threshold,
        ...(this.options.readAs !== undefined ? { class: this.options.readAs, classShares: { [this.options.readAs]: 1 } } : {}),
        ...(judgedAs !== undefined ? { judgedAs } : {}),
        ...(this.options.lookRatio !== undefined ? { lookRatio: this.options.lookRatio, unlike: this.options.lookRatio > (this.options.unlikeMargin ?? Infinity) } : {}),
        ...(this.options.lightRatio !== undefined ? { lightRatio: this.options.lightRatio } : {}),
        width,
        height,
        frameMap: async () => {
          this.mapCalls++;
          return Float32Array.from(gray, (v) => v / 255);
        },
        timings: { decode: t1 - t0, backbone: 0, edit: 0, diffusion: 0, score: performance.now() - t1 },
      };
    } finally {
      this.active--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

async function decodeGray(frame: FrameInput, maxPixels: number): Promise<{ width: number; height: number; gray: Uint8Array }> {
  if (frame.kind === "raw") {
    const ch = frame.format === "gray8" ? 1 : 3;
    if (frame.pixels.length !== frame.width * frame.height * ch) throw invalidInput("raw length mismatch");
    const gray = new Uint8Array(frame.width * frame.height);
    for (let i = 0; i < gray.length; i++) {
      gray[i] = ch === 1 ? frame.pixels[i]! : Math.round((frame.pixels[3 * i]! + frame.pixels[3 * i + 1]! + frame.pixels[3 * i + 2]!) / 3);
    }
    return { width: frame.width, height: frame.height, gray };
  }
  if (frame.bytes.length === 0) throw invalidInput("image is empty (0 bytes)");
  try {
    const { data, info } = await sharp(frame.bytes, { limitInputPixels: maxPixels, failOn: "truncated" })
      .rotate()
      .removeAlpha()
      .greyscale()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, gray: new Uint8Array(data.buffer, data.byteOffset, info.width * info.height) };
  } catch (err) {
    throw invalidInput(`cannot decode image (${frame.bytes.length} bytes): ${(err as Error).message.split("\n")[0]}`, err);
  }
}

/** A PNG of a flat gray level (0-255), size w×h. */
export async function grayPng(level: number, width = 32, height = 24): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3, level);
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
