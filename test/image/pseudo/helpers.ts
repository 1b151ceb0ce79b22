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

/** A plain gray plate (faintly noisy, 90–94) carrying square parts: bright with a dark hole, so each is a busy square on plain ground. */
export function partsPlate(width: number, height: number, parts: readonly (readonly [number, number])[], size: number, seed = 9): RgbImage {
  const image = noiseImage(width, height, seed, true);
  for (let i = 0; i < image.rgb.length; i++) image.rgb[i] = 90 + (image.rgb[i]! % 5);
  for (const [px, py] of parts) {
    for (let y = py; y < py + size; y++) {
      for (let x = px; x < px + size; x++) {
        const hole = Math.abs(x - px - size / 2) < size / 5 && Math.abs(y - py - size / 2) < size / 5;
        image.rgb.fill(hole ? 10 : 230, 3 * (y * width + x), 3 * (y * width + x) + 3);
      }
    }
  }
  return image;
}

/** A one-class data set of `count` plates with four parts each (train/good only), for logical anomalies. */
export async function writePlateSet(root: string, count = 3): Promise<void> {
  const dir = path.join(root, "board", "train", "good");
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const img = partsPlate(96, 96, [[10, 10], [60, 12], [12, 62], [62, 60]], 20, 30 + i);
    await sharp(Buffer.from(img.rgb), { raw: { width: 96, height: 96, channels: 3 } }).png().toFile(path.join(dir, `${String(i).padStart(3, "0")}.png`));
  }
}

/** Every sample a set generator yields, in order. */
export async function collect<T>(gen: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const s of gen) out.push(s);
  return out;
}
