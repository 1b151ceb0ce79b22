/**
 * Colour: a wood veneer panel (a real wood-grain scan, tinted) in a
 * 384 × 256 RGB frame. Next to the gray classes it checks that one unified
 * model copes with gray and colour cameras. Defects: light scratches, and the
 * demo generator's contamination and colour-change painters (1–10 % of the
 * frame: the easy end of the suite).
 */
import { paintDefect } from "../defects.js";
import { fbm } from "../noise.js";
import { cloneRaster, createMap, createRaster } from "../raster.js";
import type { RealisticClass } from "./types.js";
import { need } from "./types.js";
import { paintHairline } from "./defects.js";
import { sampleTexture } from "./texture-source.js";

export const veneer: RealisticClass = {
  name: "veneer",
  exercises: "colour (RGB) next to gray classes; scratches, contamination, discolouration",
  channels: 3,
  textures: ["woody"],
  train: 250,
  testGood: 20,
  testPerDefect: 10,
  defects: ["scratch", "contamination", "color"],
  camera: { gain: [0.9, 1.1], slope: 0.08, vignette: [0, 0.1], balance: 0.03, noiseSigma: [0.005, 0.01] },
  maxDefectArea: 0.12,
  sizeRange: [384, 384, 256, 256],
  size: () => [384, 256],
  render(rng, width, height, tex) {
    const wood = need(tex, "woody");
    // The scan's grain runs horizontally; keep it so, within a few degrees, as panels are fed along the grain.
    const g = sampleTexture(wood, width, height, { ox: rng.range(0, 1024), oy: rng.range(0, 1024), angle: rng.range(-0.04, 0.04), scale: rng.range(0.85, 1.0), contrast: rng.range(0.8, 0.95) });
    const stain = rng.range(-0.04, 0.04);
    const light = [0.72 + stain, 0.52 + stain * 0.8, 0.33 + stain * 0.5];
    const dark = [0.38 + stain, 0.22 + stain * 0.6, 0.12 + stain * 0.3];
    const img = createRaster(width, height, 3);
    const seed = rng.seed();
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      const y = Math.floor(i / width);
      const t = Math.min(1, Math.max(0, g.data[i]! + 0.05 * fbm(x / 120, y / 120, seed, 2)));
      for (let c = 0; c < 3; c++) img.data[i * 3 + c] = dark[c]! + (light[c]! - dark[c]!) * t;
    }
    const support = createMap(width, height);
    support.data.fill(1);
    return { image: img, support };
  },
  paint(defect, rng, scene) {
    switch (defect) {
      case "scratch": {
        const out = cloneRaster(scene.image);
        return { image: out, alpha: paintHairline(rng, scene, out, { length: [0.15, 0.5], contrast: [0.1, 0.18] }) };
      }
      case "contamination":
      case "color":
        return paintDefect(defect, rng, scene);
      default:
        throw new RangeError(`veneer has no defect '${defect}'`);
    }
  },
};
