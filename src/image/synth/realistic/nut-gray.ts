/**
 * Small and edge defects on an object: the demo generator's hex nut seen by
 * a 256-px gray camera (as the factory suite's glass parts), with defects
 * under half a percent of the frame: chips broken off the contour and small
 * spots on the face.
 */
import { renderHexNut } from "../object.js";
import { cloneRaster, createRaster, type Raster } from "../raster.js";
import type { RealisticClass } from "./types.js";
import { paintEdgeChip, paintSmallBlob } from "./defects.js";

const SIZE = 256;

function toGray(r: Raster): Raster {
  const g = createRaster(r.width, r.height, 1);
  for (let i = 0; i < g.data.length; i++) g.data[i] = 0.299 * r.data[i * 3]! + 0.587 * r.data[i * 3 + 1]! + 0.114 * r.data[i * 3 + 2]!;
  return g;
}

export const nutGray: RealisticClass = {
  name: "nut_gray",
  exercises: "small (< 0.5 % of the frame) and edge defects on a gray object",
  channels: 1,
  textures: [],
  train: 250,
  testGood: 20,
  testPerDefect: 12,
  defects: ["edge_chip", "small_spot"],
  camera: { gain: [0.9, 1.1], slope: 0.06, vignette: [0.02, 0.12], balance: 0, noiseSigma: [0.005, 0.01] },
  maxDefectArea: 0.005,
  sizeRange: [SIZE, SIZE, SIZE, SIZE],
  size: () => [SIZE, SIZE],
  render(rng, width, height) {
    const scene = renderHexNut(rng, width, height);
    return { image: toGray(scene.image), support: scene.support, ...(scene.behind ? { behind: toGray(scene.behind) } : {}), ...(scene.outline ? { outline: scene.outline } : {}) };
  },
  paint(defect, rng, scene) {
    const out = cloneRaster(scene.image);
    switch (defect) {
      case "edge_chip":
        return { image: out, alpha: paintEdgeChip(rng, scene, out, { area: [0.0004, 0.0025] }) };
      case "small_spot":
        return { image: out, alpha: paintSmallBlob(rng, scene, out, { area: [0.0005, 0.003], tone: [0.05, 0.1] }) };
      default:
        throw new RangeError(`nut_gray has no defect '${defect}'`);
    }
  },
};
