/**
 * Shared set-up of the tests of a per-class correction as served (size
 * trends, edge profiles, position profiles): a striped, noisy frame to fit
 * and score, and a fitted bundle rewritten with one scoring entry set by hand.
 */
import sharp from "sharp";
import { writeBundle, type LoadedBundle } from "../../src/model/bundle.js";
import { createRng } from "../../src/model/diffusion/prng.js";

/** A width×height PNG of gray stripes (period 7 pixels along the rows) with `noise` levels of uniform noise, seeded. */
export async function stripedFrame(seed: number, width: number, height: number, noise = 20): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.fill(Math.round(120 + 40 * Math.sin(i / 7) + noise * (rng.next() - 0.5)), 3 * i, 3 * i + 3);
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** `fitted` written again to `to` with `manifest.scoring[key]` set to `value` (unchecked: the tests also write malformed ones). */
export async function rewriteScoring(fitted: LoadedBundle, key: string, value: unknown, to: string): Promise<void> {
  const files = Object.fromEntries(Object.keys(fitted.manifest.files).map((name) => [name, fitted.file(name)]));
  const { files: _hashes, ...rest } = fitted.manifest;
  await writeBundle(to, { ...rest, scoring: { ...rest.scoring, [key]: value } } as typeof rest, files, true);
}
