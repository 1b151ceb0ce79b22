/**
 * A Detector that decodes every frame with the product's own decoder
 * (src/image/decode.ts, the code the real pipeline runs first) and scores
 * it by mean brightness. The fuzzer uses it so hostile images meet the real
 * decoding path behind a real server, at a speed that allows thousands of
 * cases (the backbone and diffusion stages never see undecodable input).
 */
import { decodeFrame } from "../../../src/image/decode.js";
import type { Detection, DetectOptions, Detector, FrameInput, ModelInfo } from "../../../src/pipeline/types.js";

export class DecodingDetector implements Detector {
  readonly info: ModelInfo = {
    version: "decode-only",
    backbone: "none",
    featureShape: [1, 1, 1],
    coresetSize: 0,
    mode: "knn",
    threshold: 0.5,
    thresholdRule: "normal-quantile",
    thresholdMethod: "fixed by the decode-only detector",
    executionProvider: "cpu",
    inputSize: 0,
    classes: [],
  };

  constructor(private readonly maxPixels: number) {}

  async detect(frame: FrameInput, options: DetectOptions = {}): Promise<Detection> {
    const t0 = performance.now();
    const image = await decodeFrame(frame, { maxPixels: this.maxPixels });
    const t1 = performance.now();
    const n = image.width * image.height;
    let sum = 0;
    for (let i = 0; i < image.rgb.length; i++) sum += image.rgb[i]!;
    const score = n > 0 ? sum / (3 * n * 255) : 0;
    const threshold = options.threshold ?? this.info.threshold;
    return {
      score,
      threshold,
      isAnomalous: score >= threshold,
      width: image.width,
      height: image.height,
      frameMap: async () => {
        const map = new Float32Array(n);
        for (let i = 0; i < n; i++) map[i] = image.rgb[3 * i]! / 255;
        return map;
      },
      timings: { decode: t1 - t0, backbone: 0, edit: 0, diffusion: 0, score: performance.now() - t1 },
    };
  }

  async close(): Promise<void> {}
}
