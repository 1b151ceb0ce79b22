/**
 * The two texture classes: a twill-woven fabric (RGB) and a brushed metal
 * sheet (grayscale). Each call draws a new piece of material: random phase,
 * slight rotation, thread/grain irregularity and dye or finish variation,
 * so no two normal images are the same but all share the statistics.
 */
import { fbm, hash01, valueNoise } from "./noise.js";
import { createMap, createRaster } from "./raster.js";
import type { Rng } from "./rng.js";
import type { Scene } from "./scene.js";

function fullSupport(width: number, height: number) {
  const support = createMap(width, height);
  support.data.fill(1);
  return support;
}

/** Warp and weft in a 2/2 twill, threads wandering a little as real cloth does. */
export function renderFabric(rng: Rng, width: number, height: number): Scene {
  const img = createRaster(width, height, 3);
  const theta = rng.range(-0.05, 0.05);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const period = rng.range(9.2, 10.8);
  const u0 = rng.range(0, 8 * period);
  const v0 = rng.range(0, 8 * period);
  const dye = rng.range(-0.05, 0.05);
  const warp = [0.5 + dye, 0.35 + dye * 0.8, 0.24 + dye * 0.5];
  const weft = [0.72 + dye, 0.62 + dye, 0.47 + dye * 0.7];
  const wobbleSeed = rng.seed();
  const fibreSeed = rng.seed();
  const threadSeed = rng.seed();
  const shadeSeed = rng.seed();
  const d = img.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Low-frequency displacement bends the threads; without it the weave looks printed.
      const du = 2.2 * fbm(x / 70, y / 70, wobbleSeed, 3);
      const dv = 2.2 * fbm(x / 70 + 17.3, y / 70 + 5.1, wobbleSeed, 3);
      const u = x * cos + y * sin + u0 + du;
      const v = -x * sin + y * cos + v0 + dv;
      const i = Math.floor(u / period);
      const j = Math.floor(v / period);
      const fu = u / period - i;
      const fv = v / period - j;
      const warpOnTop = (((i - j) % 4) + 4) % 4 < 2;
      let across: number;
      let along: number;
      let fibre: number;
      let tone: number;
      let colour: number[];
      if (warpOnTop) {
        across = fu;
        along = fv;
        fibre = valueNoise(u * 1.1, v * 0.12, fibreSeed);
        tone = hash01(i, 0, threadSeed);
        colour = warp;
      } else {
        across = fv;
        along = fu;
        fibre = valueNoise(u * 0.12, v * 1.1, fibreSeed + 1);
        tone = hash01(0, j, threadSeed);
        colour = weft;
      }
      const profile = Math.pow(Math.sin(Math.PI * across), 0.6);
      const bulge = 0.78 + 0.22 * Math.sin(Math.PI * along);
      const shade = (0.22 + 0.78 * profile * bulge) * (0.92 + 0.16 * tone) * (1 + 0.13 * fibre) * (1 + 0.05 * fbm(x / 90, y / 90, shadeSeed, 2));
      const o = (y * width + x) * 3;
      d[o] = (colour[0] as number) * shade;
      d[o + 1] = (colour[1] as number) * shade;
      d[o + 2] = (colour[2] as number) * shade;
    }
  }
  return { image: img, support: fullSupport(width, height) };
}

/** Brushed metal: streaks along the brushing direction, mottling, a soft reflection band of the line light. */
export function renderBrushedMetal(rng: Rng, width: number, height: number): Scene {
  const img = createRaster(width, height, 1);
  const theta = rng.range(-0.04, 0.04);
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const base = rng.range(0.44, 0.52);
  const u0 = rng.range(0, 1000);
  const v0 = rng.range(0, 1000);
  const bandCentre = rng.range(-0.2, 1.2) * height;
  const bandWidth = rng.range(0.25, 0.45) * height;
  const bandGain = rng.range(0.1, 0.2);
  const s1 = rng.seed();
  const s2 = rng.seed();
  const s3 = rng.seed();
  const s4 = rng.seed();
  const s5 = rng.seed();
  const d = img.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x * cos + y * sin + u0;
      const v = -x * sin + y * cos + v0;
      // Frequencies are much higher across the brushing (v) than along it (u): that anisotropy is the look.
      const streak =
        0.5 * valueNoise(u * 0.006, v * 0.9, s1) + 0.32 * valueNoise(u * 0.025, v * 0.33, s2) + 0.18 * valueNoise(u * 0.08, v * 1.9, s3);
      const mottle = fbm(x / 85, y / 85, s4, 3);
      // Occasional deeper brush lines, fading in and out along their length.
      const row = Math.floor(v * 0.5);
      const deep = hash01(row, 7, s5) > 0.965 ? -0.05 * Math.max(0, valueNoise(u * 0.01, row, s5 + 3)) : 0;
      const yb = (y - bandCentre) / bandWidth;
      const band = bandGain * Math.exp(-yb * yb);
      d[y * width + x] = base + 0.085 * streak + 0.045 * mottle + deep + band;
    }
  }
  return { image: img, support: fullSupport(width, height) };
}
