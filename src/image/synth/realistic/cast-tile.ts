/**
 * Small gray cast or sintered tiles photographed one per frame on a dark
 * tray, cropped to the tile, so every frame has its own size (100–630 ×
 * 220–400 px, mostly non-square) and the tile's border is near the frame
 * edge. Surface from a real hard-grain scan. The class with the most
 * training images (700) next to a class with 25 in the same unified fit.
 * Defects: blowholes (< 0.5 % of the frame), cracks, and fraying of the border.
 */
import { clamp01, fbm, smoothstep } from "../noise.js";
import { cloneRaster, createMap, createRaster } from "../raster.js";
import type { RealisticClass } from "./types.js";
import { need } from "./types.js";
import { paintCrack, paintFray, paintSmallBlob } from "./defects.js";
import { sampleTexture } from "./texture-source.js";

export const castTile: RealisticClass = {
  name: "cast_tile",
  exercises: "non-square frames of many sizes in one class, small blowholes, cracks, border fraying; 700 training images",
  channels: 1,
  textures: ["grain"],
  train: 700,
  testGood: 25,
  testPerDefect: 12,
  defects: ["blowhole", "crack", "fray"],
  camera: { gain: [0.9, 1.1], slope: 0.08, vignette: [0, 0.08], balance: 0, noiseSigma: [0.006, 0.012] },
  maxDefectArea: 0.05,
  sizeRange: [100, 630, 220, 400],
  size: (rng) => [Math.round(rng.range(100, 630)), Math.round(rng.range(220, 400))],
  render(rng, width, height, tex) {
    const grain = need(tex, "grain");
    const surface = sampleTexture(grain, width, height, { ox: rng.range(0, 1024), oy: rng.range(0, 1024), angle: rng.range(0, 2 * Math.PI), scale: rng.range(0.9, 1.1), contrast: rng.range(0.5, 0.6) });
    const margin = rng.range(5, 10);
    const x0 = margin + rng.range(-2, 2);
    const y0 = margin + rng.range(-2, 2);
    const x1 = width - margin + rng.range(-2, 2);
    const y1 = height - margin + rng.range(-2, 2);
    const corner = rng.range(3, 7);
    const level = rng.range(0.5, 0.58);
    const traySeed = rng.seed();
    const img = createRaster(width, height, 1);
    const behind = createRaster(width, height, 1);
    const support = createMap(width, height);
    // Signed distance to the rounded rectangle (negative inside).
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const bx = (x1 - x0) / 2 - corner;
    const by = (y1 - y0) / 2 - corner;
    const sd = (x: number, y: number) => {
      const qx = Math.abs(x - cx) - bx;
      const qy = Math.abs(y - cy) - by;
      return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - corner;
    };
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        const tray = 0.1 + 0.03 * fbm(x / 40, y / 40, traySeed, 2);
        const d = sd(x + 0.5, y + 0.5);
        const cover = clamp01(0.5 - d);
        // The cast edge is rounded: darker in the last pixels before the border.
        const rim = 1 - 0.25 * smoothstep(-4, 0, d);
        behind.data[i] = tray;
        img.data[i] = tray * (1 - cover) + (level + (surface.data[i]! - 0.5) * 0.6) * rim * cover;
        support.data[i] = clamp01(-d - 2);
      }
    }
    const outline: Array<[number, number]> = [];
    const step = 3;
    for (let x = x0 + corner; x < x1 - corner; x += step) outline.push([x, y0]);
    for (let y = y0 + corner; y < y1 - corner; y += step) outline.push([x1, y]);
    for (let x = x1 - corner; x > x0 + corner; x -= step) outline.push([x, y1]);
    for (let y = y1 - corner; y > y0 + corner; y -= step) outline.push([x0, y]);
    return { image: img, support, behind, outline };
  },
  paint(defect, rng, scene) {
    const out = cloneRaster(scene.image);
    switch (defect) {
      case "blowhole":
        return { image: out, alpha: paintSmallBlob(rng, scene, out, { area: [0.0008, 0.004], tone: "hole" }) };
      case "crack":
        return { image: out, alpha: paintCrack(rng, scene, out, { length: [0.25, 0.6], darkness: [0.35, 0.6] }) };
      case "fray":
        return { image: out, alpha: paintFray(rng, scene, out, { span: [0.04, 0.12], bite: [2, 4.5] }) };
      default:
        throw new RangeError(`cast_tile has no defect '${defect}'`);
    }
  },
};
