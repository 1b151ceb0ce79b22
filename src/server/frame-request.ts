/**
 * A DetectRequest as the pipeline wants it: a FrameInput, DetectOptions and
 * what to render. Only protocol-level checks live here (an image is set, the
 * pixel format is known, the declared raw size is sane and matches the
 * bytes), so a malformed frame is refused before it takes a queue slot;
 * decoding an encoded image is the pipeline's job.
 */
import type { DetectRequest } from "../gen/lafited/v1/detector_pb.js";
import { PixelFormat as ProtoPixelFormat } from "../gen/lafited/v1/detector_pb.js";
import type { DetectOptions, FrameInput, PixelFormat } from "../pipeline/types.js";
import { invalidInput } from "../util/errors.js";
import { checkRawFrame } from "../image/decode.js";

export interface FrameRequest {
  readonly frame: FrameInput;
  readonly options: DetectOptions;
  readonly heatmap: boolean;
  readonly mask: boolean;
  readonly regions: boolean;
}

export interface FrameLimits {
  /** Largest width×height accepted. */
  readonly maxPixels: number;
}

const FORMATS: Partial<Record<number, PixelFormat>> = {
  [ProtoPixelFormat.GRAY8]: "gray8",
  [ProtoPixelFormat.RGB8]: "rgb8",
  [ProtoPixelFormat.BGR8]: "bgr8",
};

export function toFrameRequest(req: DetectRequest, limits: FrameLimits): FrameRequest {
  const frame = toFrameInput(req, limits);
  const o = req.options;
  // threshold sits alone in the oneof optional_threshold: set means override.
  const threshold = o?.optionalThreshold.case === "threshold" ? o.optionalThreshold.value : undefined;
  if (threshold !== undefined && !Number.isFinite(threshold)) {
    throw invalidInput(`options.threshold must be a finite number, got ${threshold}`);
  }
  const options: DetectOptions = {
    ...(req.classTag !== "" ? { classTag: req.classTag } : {}),
    ...(threshold !== undefined ? { threshold } : {}),
  };
  return { frame, options, heatmap: o?.returnHeatmap ?? false, mask: o?.returnMask ?? false, regions: o?.returnRegions ?? false };
}

function toFrameInput(req: DetectRequest, limits: FrameLimits): FrameInput {
  const image = req.image;
  switch (image.case) {
    case "encoded":
      if (image.value.length === 0) throw invalidInput("image is empty (encoded has 0 bytes)");
      return { kind: "encoded", bytes: image.value };
    case "raw": {
      const { width, height, pixelFormat, pixels } = image.value;
      const format = FORMATS[pixelFormat];
      if (format === undefined) {
        const what = pixelFormat === ProtoPixelFormat.UNSPECIFIED ? "is not set" : `${pixelFormat} is unknown`;
        throw invalidInput(`raw.pixel_format ${what} (expected PIXEL_FORMAT_GRAY8, PIXEL_FORMAT_RGB8 or PIXEL_FORMAT_BGR8)`);
      }
      checkRawFrame(width, height, format, pixels.length, limits);
      return { kind: "raw", pixels, width, height, format };
    }
    default:
      throw invalidInput("request has no image (set encoded or raw)");
  }
}
