/**
 * A 1024 × 1024 gray sheet (paper / coated board under diffuse light) from a
 * real paper scan, with 25 training images: the factory suite's hardest
 * texture. Its defects are thin and faint: hairline scratches one or two
 * pixels wide with 4–9 % contrast, and faint spots, both tiny against a
 * 224-px backbone input (a 1-px line shrinks to a fifth of a pixel).
 */
import { createMap, createRaster } from "../raster.js";
import { cloneRaster } from "../raster.js";
import { fbm } from "../noise.js";
import type { RealisticClass } from "./types.js";
import { need } from "./types.js";
import { paintHairline, paintSmallBlob } from "./defects.js";
import { sampleTexture } from "./texture-source.js";

const SIZE = 1024;

export const sheetHires: RealisticClass = {
  name: "sheet_hires",
  exercises: "1024-px frames, hairline and low-contrast defects, 25 training images",
  channels: 1,
  textures: ["paper"],
  train: 25,
  testGood: 12,
  testPerDefect: 8,
  defects: ["hairline", "faint_spot"],
  camera: { gain: [0.94, 1.06], slope: 0.05, vignette: [0, 0.06], balance: 0, noiseSigma: [0.004, 0.008] },
  maxDefectArea: 0.01,
  sizeRange: [SIZE, SIZE, SIZE, SIZE],
  size: () => [SIZE, SIZE],
  render(rng, width, height, tex) {
    const paper = need(tex, "paper");
    // 0.5 source px per output px: the scan's grain at twice the size, as a closer, higher-resolution camera sees it.
    const base = sampleTexture(paper, width, height, { ox: rng.range(0, 1024), oy: rng.range(0, 1024), angle: rng.range(-0.03, 0.03), scale: rng.range(0.48, 0.52), contrast: rng.range(0.55, 0.65) });
    const img = createRaster(width, height, 1);
    const level = rng.range(0.58, 0.64);
    const cloudSeed = rng.seed();
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = y * width + x;
        // Fibre clouds of the sheet, much larger than the grain.
        img.data[i] = level + (base.data[i]! - 0.5) * 0.5 + 0.02 * fbm(x / 160, y / 160, cloudSeed, 3);
      }
    }
    const support = createMap(width, height);
    support.data.fill(1);
    return { image: img, support };
  },
  paint(defect, rng, scene) {
    const out = cloneRaster(scene.image);
    switch (defect) {
      case "hairline":
        return { image: out, alpha: paintHairline(rng, scene, out, { length: [0.08, 0.3], contrast: [0.04, 0.09] }) };
      case "faint_spot":
        return { image: out, alpha: paintSmallBlob(rng, scene, out, { area: [0.0006, 0.004], tone: [0.04, 0.08] }) };
      default:
        throw new RangeError(`sheet_hires has no defect '${defect}'`);
    }
  },
};
