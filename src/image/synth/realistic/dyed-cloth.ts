/**
 * A dyed woven cloth (a real rough-canvas scan, tinted blue) in a 448 × 320
 * RGB frame: colour with small defects, where the demo's colour classes
 * only have large ones. Defects: a pulled or foreign thread (a long line
 * one or two pixels wide), a small hole (< 0.5 % of the frame), and a faint
 * dye stain of low contrast.
 */
import { fbm } from "../noise.js";
import { cloneRaster, createMap, createRaster } from "../raster.js";
import type { RealisticClass } from "./types.js";
import { need } from "./types.js";
import { paintHairline, paintSmallBlob } from "./defects.js";
import { sampleTexture } from "./texture-source.js";

export const dyedCloth: RealisticClass = {
  name: "dyed_cloth",
  exercises: "colour texture with thin threads, small holes and faint dye stains",
  channels: 3,
  textures: ["roughCanvas"],
  train: 150,
  testGood: 20,
  testPerDefect: 10,
  defects: ["thread", "hole", "stain"],
  camera: { gain: [0.9, 1.1], slope: 0.08, vignette: [0, 0.1], balance: 0.03, noiseSigma: [0.005, 0.01] },
  maxDefectArea: 0.02,
  sizeRange: [448, 448, 320, 320],
  size: () => [448, 320],
  render(rng, width, height, tex) {
    const cloth = need(tex, "roughCanvas");
    const t = sampleTexture(cloth, width, height, { ox: rng.range(0, 1024), oy: rng.range(0, 1024), angle: rng.range(-0.03, 0.03), scale: rng.range(0.9, 1.0), contrast: rng.range(0.9, 1.0) });
    const dye = rng.range(-0.03, 0.03);
    const colour = [0.16 + dye, 0.3 + dye, 0.58 + dye];
    const img = createRaster(width, height, 3);
    const seed = rng.seed();
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      const y = Math.floor(i / width);
      const s = 1.05 + 0.9 * (t.data[i]! - 0.5) + 0.04 * fbm(x / 100, y / 100, seed, 2);
      for (let c = 0; c < 3; c++) img.data[i * 3 + c] = colour[c]! * s;
    }
    const support = createMap(width, height);
    support.data.fill(1);
    return { image: img, support };
  },
  paint(defect, rng, scene) {
    const out = cloneRaster(scene.image);
    switch (defect) {
      case "thread":
        return { image: out, alpha: paintHairline(rng, scene, out, { length: [0.3, 0.7], contrast: [0.08, 0.15] }) };
      case "hole":
        return { image: out, alpha: paintSmallBlob(rng, scene, out, { area: [0.0008, 0.004], tone: "hole" }) };
      case "stain":
        return { image: out, alpha: paintSmallBlob(rng, scene, out, { area: [0.004, 0.015], tone: [0.05, 0.09] }) };
      default:
        throw new RangeError(`dyed_cloth has no defect '${defect}'`);
    }
  },
};
