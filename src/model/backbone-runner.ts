/**
 * Runs a backbone feature extractor ONNX graph: [N,3,S,S] float RGB in
 * [0,255] → features [N,c,h,w]. The graph itself normalizes its input and
 * resizes/concatenates the chosen stages (see src/model/backbone/), so this
 * layer only batches and slices.
 */
import * as ort from "onnxruntime-node";
import type { FeatureMap } from "./types.js";
import { toModelInput, type RgbImage } from "../image/decode.js";
import { tilesOf, type Aspect, type Framing, type Rect } from "../image/geometry.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export const BACKBONE_INPUT = "image";
export const BACKBONE_OUTPUT = "features";

/** One backbone input of a frame: the tile of the frame it shows, and the S×S input. */
export interface View {
  readonly tile: Rect;
  readonly input: Float32Array;
}

export class BackboneRunner {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly inputSize: number,
    readonly shape: { readonly c: number; readonly h: number; readonly w: number },
    /** How frames become S×S inputs (image/geometry.ts); the bundle's backbone.aspect and backbone.tileSide. */
    readonly framing: Framing,
  ) {}

  static async open(onnx: Uint8Array, inputSize: number, options: ort.InferenceSession.SessionOptions, framing: Framing = { aspect: "stretch" }): Promise<BackboneRunner> {
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
    return new BackboneRunner(session, inputSize, { c: dims[1]!, h: dims[2]!, w: dims[3]! }, framing);
  }

  get aspect(): Aspect {
    return this.framing.aspect;
  }

  /** The tiles a frame of this size is cut into (one, the whole frame, unless it is larger than tileSide). */
  tilesOf(width: number, height: number): Rect[] {
    return tilesOf(width, height, this.framing.tileSide);
  }

  /** An image as this backbone's inputs: one S×S input per tile, each fitted by the aspect rule. */
  async views(image: RgbImage): Promise<View[]> {
    return Promise.all(this.tilesOf(image.width, image.height).map(async (tile) => ({ tile, input: await toModelInput(image, this.inputSize, this.aspect, tile) })));
  }

  /** Feature maps of S×S inputs, one batch. */
  async runInputs(inputs: readonly Float32Array[]): Promise<FeatureMap[]> {
    if (inputs.length === 0) return [];
    const one = 3 * this.inputSize * this.inputSize;
    const batch = new Float32Array(inputs.length * one);
    inputs.forEach((x, i) => batch.set(x, i * one));
    return this.run(batch, inputs.length);
  }

  /** `batch` holds n planar RGB images of S×S back to back. */
  async run(batch: Float32Array, n: number): Promise<FeatureMap[]> {
    const S = this.inputSize;
    const out = await this.session.run({ [BACKBONE_INPUT]: new ort.Tensor("float32", batch, [n, 3, S, S]) });
    const data = out[BACKBONE_OUTPUT]!.data as Float32Array;
    const { c, h, w } = this.shape;
    const size = c * h * w;
    const maps: FeatureMap[] = [];
    for (let i = 0; i < n; i++) maps.push({ data: data.slice(i * size, (i + 1) * size), c, h, w });
    return maps;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Session options shared by every ONNX session of a process. */
export function sessionOptions(executionProvider: "cpu" | "cuda" = "cpu", intraOpThreads?: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: executionProvider === "cuda" ? ["cuda", "cpu"] : ["cpu"],
    graphOptimizationLevel: "all",
    ...(intraOpThreads ? { intraOpNumThreads: intraOpThreads } : {}),
  };
}
