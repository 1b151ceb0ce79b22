/** A frame as a client sends it: encoded image bytes, or raw pixels with their layout. */

export type PixelFormat = "gray8" | "rgb8" | "bgr8";

export type FrameInput =
  | { readonly kind: "encoded"; readonly bytes: Uint8Array }
  | { readonly kind: "raw"; readonly pixels: Uint8Array; readonly width: number; readonly height: number; readonly format: PixelFormat };
