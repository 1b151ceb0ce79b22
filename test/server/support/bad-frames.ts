/**
 * Every kind of frame the daemon refuses, with the message that must name
 * what was wrong. Shared by the bad-input and burst tests so a new refusal
 * joins both.
 */
import { PixelFormat } from "../../../src/gen/lafited/v1/detector_pb.js";
import type { DetectRequestInit } from "../../../src/server/client.js";
import { grayPng } from "./fake-detector.js";

export async function badInputs(): Promise<[string, DetectRequestInit, RegExp][]> {
  const png = await grayPng(90, 64, 64);
  return [
    ["garbage bytes", { frameId: "garbage", image: { case: "encoded", value: Buffer.from("this is not an image at all, just text") } }, /cannot decode image/],
    ["empty image", { frameId: "empty", image: { case: "encoded", value: new Uint8Array(0) } }, /empty/],
    ["truncated PNG", { frameId: "truncated", image: { case: "encoded", value: png.subarray(0, Math.floor(png.length / 2)) } }, /cannot decode image/],
    ["no image", { frameId: "none" }, /no image/],
    [
      "raw length mismatch",
      { frameId: "rawlen", image: { case: "raw", value: { width: 4, height: 4, pixelFormat: PixelFormat.RGB8, pixels: new Uint8Array(47) } } },
      /needs 48 bytes.*got 47/,
    ],
    [
      "declared 100000x100000 raw frame",
      { frameId: "huge", image: { case: "raw", value: { width: 100000, height: 100000, pixelFormat: PixelFormat.GRAY8, pixels: new Uint8Array(16) } } },
      /100000x100000 exceeds/,
    ],
    [
      "unknown pixel format",
      { frameId: "fmt", image: { case: "raw", value: { width: 2, height: 2, pixelFormat: 42 as PixelFormat, pixels: new Uint8Array(4) } } },
      /pixel_format 42 is unknown/,
    ],
    [
      "unset pixel format",
      { frameId: "fmt0", image: { case: "raw", value: { width: 2, height: 2, pixels: new Uint8Array(4) } } },
      /pixel_format is not set/,
    ],
    ["NaN threshold", { frameId: "nan", image: { case: "encoded", value: png }, options: { optionalThreshold: { case: "threshold", value: Number.NaN } } }, /threshold/],
  ];
}

