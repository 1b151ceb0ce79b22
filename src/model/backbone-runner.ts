/**
 * Runs a backbone feature extractor ONNX graph: [N,3,S,S] float RGB in
 * [0,255] → features [N,c,h,w]. The graph itself normalizes its input and
 * resizes/concatenates the chosen stages (see src/model/backbone/), so this
 * layer only batches and slices.
 */
import * as ort from "onnxruntime-node";
import type { FeatureMap } from "./types.js";
import { toModelInput, type RgbImage } from "../image/decode.js";
import { frameCells, LEGACY_FIT, placement, type Aspect, type FrameFit } from "../image/geometry.js";
import { frameLight } from "../image/frame-light.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export const BACKBONE_INPUT = "image";
export const BACKBONE_OUTPUT = "features";

/** A frame's size before it is fitted into the backbone's input. */
export interface FrameSize {
  readonly width: number;
  readonly height: number;
}

export class BackboneRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputSize: number,
    readonly shape: { readonly c: number; readonly h: number; readonly w: number },
    /** How frames are fitted into the S×S input (image/geometry.ts); the bundle's backbone.aspect and backbone.border. */
    readonly fit: FrameFit,
  ) {}

  /** Where a frame lands in the input: the fit's aspect rule (masks and maps follow it; the border only fills the input). */
  get aspect(): Aspect {
    return this.fit.aspect;
  }

  static async open(onnx: Uint8Array, inputSize: number, options: ort.InferenceSession.SessionOptions, fit: FrameFit = LEGACY_FIT): Promise<BackboneRunner> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnx, options);
    } catch (err) {
      throw new LafiteError(ErrorCode.BAD_BUNDLE, `backbone ONNX cannot be loaded: ${(err as Error).message}`, { cause: err });
    }
    if (!session.inputNames.includes(BACKBONE_INPUT) || !session.outputNames.includes(BACKBONE_OUTPUT)) {
      throw new LafiteError(ErrorCode.BAD_BUNDLE, `backbone ONNX must have input '${BACKBONE_INPUT}' and output '${BACKBONE_OUTPUT}' (has ${session.inputNames.join(",")} → ${session.outputNames.join(",")})`);
    }
    // Probe once with a gray frame to learn the feature shape (and fail early on a broken graph).
    const probe = new Float32Array(3 * inputSize * inputSize).fill(128);
    const out = await session.run({ [BACKBONE_INPUT]: new ort.Tensor("float32", probe, [1, 3, inputSize, inputSize]) });
    const dims = out[BACKBONE_OUTPUT]!.dims;
    if (dims.length !== 4) throw new LafiteError(ErrorCode.BAD_BUNDLE, `backbone output has shape [${dims.join(",")}], expected [N,c,h,w]`);
    return new BackboneRunner(session, inputSize, { c: dims[1]!, h: dims[2]!, w: dims[3]! }, fit);
  }

  /** An image as this backbone's input: S×S, fitted by its aspect rule, the rest filled by its border rule. */
  input(image: RgbImage): Promise<Float32Array> {
    return toModelInput(image, this.inputSize, this.fit);
  }

  /**
   * `batch` holds n planar RGB images of S×S back to back. With `frames`,
   * the size of each image before it was fitted into the input, each map
   * also says which of its cells show the frame (FeatureMap.frame): a
   * letterbox border shows none of it.
   */
  async run(batch: Float32Array, n: number, frames?: readonly FrameSize[]): Promise<FeatureMap[]> {
    const S = this.inputSize;
    if (frames && frames.length !== n) throw new Error(`${frames.length} frame sizes for a batch of ${n}`);
    const out = await this.session.run({ [BACKBONE_INPUT]: new ort.Tensor("float32", batch, [n, 3, S, S]) });
    const data = out[BACKBONE_OUTPUT]!.data as Float32Array;
    const { c, h, w } = this.shape;
    const size = c * h * w;
    const maps: FeatureMap[] = [];
    for (let i = 0; i < n; i++) {
      const f = frames?.[i];
      const place = f ? placement(f.width, f.height, S, this.aspect) : undefined;
      const frame = place ? frameCells(place, S, w, h) : undefined;
      const light = frameLight(batch, i, S, place);
      maps.push({ data: data.slice(i * size, (i + 1) * size), c, h, w, ...(frame ? { frame } : {}), ...(place ? { place } : {}), ...(f ? { frameSize: { width: f.width, height: f.height } } : {}), light });
    }
    return maps;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Session options shared by every ONNX session of a process.
 *
 * Intra-op spinning is off: a frame runs several small sessions in turn
 * (backbone, kNN, U-Net), and each session's pool, spinning after its run,
 * took the cores from the next one. On the 2-core box that cut the daemon's
 * p50 from 41.9 to 27.2 ms (bench:detect, the realistic suite's model,
 * lafite mode), and two kNN sessions run alternately from 10.1 + 6.1 to
 * 6.7 + 4.6 ms.
 */
export function sessionOptions(executionProvider: "cpu" | "cuda" = "cpu", intraOpThreads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: executionProvider === "cuda" ? ["cuda", "cpu"] : ["cpu"],
    graphOptimizationLevel: "all",
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };
}
