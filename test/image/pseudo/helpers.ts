/** Shared bits of the pseudo-set tests: small normal images on disk and in memory. */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import type { RgbImage } from "../../../src/image/decode.js";
import { createRng } from "../../../src/util/random.js";

/** A textured image: smooth stripes plus seeded noise, so any shifted fragment differs visibly. */
export function noiseImage(width: number, height: number, seed: number, gray = false): RgbImage {
  const rng = createRng(seed);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 128 + 80 * Math.sin((x + 2 * y) / 5 + seed);
      const o = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.max(0, Math.min(255, Math.round(base + 60 * (rng.next() - 0.5) + (gray ? 0 : 30 * c))));
      if (gray) rgb[o + 1] = rgb[o + 2] = rgb[o]!;
    }
  }
  return { width, height, rgb, gray };
}

/** A smooth colour image (slow waves, no noise), so a fragment pasted from elsewhere leaves a clear step at its edge. */
export function smoothImage(width: number, height: number, phase: number, offset = 0): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) rgb[o + c] = Math.min(255, Math.round(60 + offset * (c === 1 ? 1 : 0) + 50 * Math.sin(x / 9 + phase + c) + 30 * Math.cos(y / 7 - phase)));
    }
  }
  return { width, height, rgb, gray: false };
}

export function flatImage(width: number, height: number, value: readonly [number, number, number]): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(value, 3 * i);
  return { width, height, rgb, gray: value[0] === value[1] && value[1] === value[2] };
}

/** Writes `count` noise PNGs (one channel when gray) and returns their paths. */
export async function writeNormals(dir: string, count: number, width: number, height: number, gray: boolean, seed: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const img = noiseImage(width, height, seed + i, gray);
    const file = path.join(dir, `${String(i).padStart(3, "0")}.png`);
    const pipeline = sharp(Buffer.from(img.rgb), { raw: { width, height, channels: 3 } });
    if (gray) pipeline.toColourspace("b-w");
    await pipeline.png().toFile(file);
    paths.push(file);
  }
  return paths;
}

/** A data set in MVTec layout with only train/good: an RGB class and a gray class of another size. */
export async function writeTrainSet(root: string, count = 3): Promise<void> {
  await writeNormals(path.join(root, "widget", "train", "good"), count, 48, 40, false, 100);
  await writeNormals(path.join(root, "plate", "train", "good"), count, 36, 36, true, 200);
}
