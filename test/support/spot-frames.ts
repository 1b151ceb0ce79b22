/**
 * Frames for the geometry end-to-end tests (letterbox, tiling): smooth gray
 * stripes with mild noise and an optional dark square, and the check that a
 * heatmap's peak sits on that square in frame coordinates.
 */
import assert from "node:assert/strict";
import sharp from "sharp";
import { createRng } from "../../src/model/diffusion/prng.js";

export interface Spot {
  readonly x: number;
  readonly y: number;
  readonly size: number;
}

/** A W×H PNG of gray stripes across `across` (the axis the brightness varies along), with `spot` painted dark. */
export async function stripedFrame(W: number, H: number, seed: number, across: "x" | "y", spot?: Spot): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let v = 140 + 40 * Math.sin(across === "y" ? y / 6 : x / 5) + 10 * (rng.next() - 0.5);
    if (spot && x >= spot.x && x < spot.x + spot.size && y >= spot.y && y < spot.y + spot.size) v = 20;
    rgb.fill(Math.max(0, Math.min(255, Math.round(v))), 3 * (y * W + x), 3 * (y * W + x) + 3);
  }
  return sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}

/** The W×H map's largest value lies within `tolerance` px of the spot's centre on both axes. */
export function assertPeakOnSpot(map: Float32Array, W: number, H: number, spot: Spot, tolerance: number): void {
  assert.equal(map.length, W * H);
  let best = 0;
  for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
  const [bx, by] = [best % W, Math.floor(best / W)];
  const [cx, cy] = [spot.x + spot.size / 2, spot.y + spot.size / 2];
  assert.ok(Math.abs(bx - cx) <= tolerance && Math.abs(by - cy) <= tolerance, `peak at (${bx}, ${by}), spot centre (${cx}, ${cy})`);
}
