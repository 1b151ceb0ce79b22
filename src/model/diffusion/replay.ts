/**
 * The replay sample: a capped, seeded subset of the standardized training
 * feature maps, stored in the bundle at fit time as float16 so that later
 * fine-tuning on new normals (src/lifecycle/jobs/retrain-diffusion.ts) can
 * keep rehearsing the original normals without the original images.
 * Features rather than images: they need no backbone pass, and they are
 * exactly what the U-Net was trained on.
 */
import { decodeFloat16, encodeFloat16 } from "../../util/float16.js";
import { createRng, permutation } from "./prng.js";

/** Stream key of the subset draw (own stream under the seed, apart from training's keys). */
const KEY_REPLAY = 11;

/** How many maps of `valuesPerMap` values fit in `maxMB` at 2 bytes per value (0 when none does). */
export function replayCapacity(valuesPerMap: number, maxMB: number): number {
  return Math.max(0, Math.floor((maxMB * 1024 * 1024) / (2 * valuesPerMap)));
}

/** Indices (ascending) of the maps kept: all when they fit, else a seeded random subset. */
export function pickReplay(available: number, capacity: number, seed: number): number[] {
  if (capacity >= available) return Array.from({ length: available }, (_, i) => i);
  return Array.from(permutation(createRng(seed, KEY_REPLAY), available).subarray(0, capacity)).sort((a, b) => a - b);
}

/** Maps → one little-endian float16 blob, map after map. */
export function encodeReplay(maps: readonly Float32Array[]): Uint8Array {
  const size = maps[0]?.length ?? 0;
  const all = new Float32Array(maps.length * size);
  maps.forEach((m, i) => {
    if (m.length !== size) throw new Error(`replay map ${i} has ${m.length} values, expected ${size}`);
    all.set(m, i * size);
  });
  const bits = encodeFloat16(all);
  return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
}

export function decodeReplay(bytes: Uint8Array, count: number, valuesPerMap: number): Float32Array[] {
  if (bytes.byteLength !== count * valuesPerMap * 2) {
    throw new Error(`replay file of ${bytes.byteLength} bytes is not ${count} maps × ${valuesPerMap} float16 values`);
  }
  const bits = new Uint16Array(bytes.slice().buffer);
  return Array.from({ length: count }, (_, i) => decodeFloat16(bits.subarray(i * valuesPerMap, (i + 1) * valuesPerMap)));
}
