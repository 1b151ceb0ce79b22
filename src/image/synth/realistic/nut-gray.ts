/**
 * Small and edge defects on an object: the demo generator's hex nut seen by
 * a 256-px gray camera (as the factory suite's glass parts), in any
 * orientation and off centre, with defects
 * under half a percent of the frame: chips broken off the contour and small
 * spots on the face.
 */
import { renderHexNut } from "../object.js";
import { cloneRaster, createMap, createRaster, type FloatMap, type Raster } from "../raster.js";
import type { Rng } from "../rng.js";
import type { Scene } from "../scene.js";
import type { RealisticClass } from "./types.js";
import { paintEdgeChip, paintSmallBlob } from "./defects.js";

const SIZE = 256;

function toGray(r: Raster): Raster {
  const g = createRaster(r.width, r.height, 1);
  for (let i = 0; i < g.data.length; i++) g.data[i] = 0.299 * r.data[i * 3]! + 0.587 * r.data[i * 3 + 1]! + 0.114 * r.data[i * 3 + 2]!;
  return g;
}

/**
 * The part as a loose feeder presents it: turned by any angle and shifted by
 * up to a tenth of the frame (the demo nut barely moves). Bilinear
 * resampling of every layer, and the outline points moved the same way.
 */
function pose(rng: Rng, scene: Scene): Scene {
  const { width: w, height: h } = scene.image;
  const angle = rng.range(0, Math.PI / 3);
  const dx = rng.range(-0.1, 0.1) * w;
  const dy = rng.range(-0.1, 0.1) * h;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = w / 2;
  const cy = h / 2;
  // Output (x, y) takes the source pixel at R^-1 (p - c - d) + c.
  const src = (x: number, y: number): [number, number] => {
    const px = x - cx - dx;
    const py = y - cy - dy;
    return [cos * px + sin * py + cx, -sin * px + cos * py + cy];
  };
  // Beyond the rendered frame, mirror it: the belt's grain continues and no wedge shows at the corners.
  const mirror = (v: number, n: number) => {
    const m = ((v % (2 * n)) + 2 * n) % (2 * n);
    return m < n ? m : 2 * n - 1 - m;
  };
  const resample = (data: Float32Array): Float32Array => {
    const out = new Float32Array(w * h);
    const at = (x: number, y: number) => data[mirror(y, h) * w + mirror(x, w)]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [u, v] = src(x, y);
        const x0 = Math.floor(u);
        const y0 = Math.floor(v);
        const fx = u - x0;
        const fy = v - y0;
        out[y * w + x] = (at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx) * (1 - fy) + (at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx) * fy;
      }
    }
    return out;
  };
  const behindIn = scene.behind!;
  const image: Raster = { ...scene.image, data: resample(scene.image.data) };
  const behind: Raster = { ...behindIn, data: resample(behindIn.data) };
  const support: FloatMap = { ...createMap(w, h), data: resample(scene.support.data) };
  // Mirrored corners may show a piece of a neighbouring part: defects go on the part in view only.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (Math.hypot(x - cx - dx, y - cy - dy) > 0.4 * w) support.data[y * w + x] = 0;
  const outline = (scene.outline ?? []).map(([x, y]): [number, number] => {
    const px = x - cx;
    const py = y - cy;
    return [cos * px - sin * py + cx + dx, sin * px + cos * py + cy + dy];
  });
  return { image, support, behind, outline };
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
    if (!scene.behind || !scene.outline) throw new RangeError("hex nut scene without background or outline");
    return pose(rng, { image: toGray(scene.image), support: scene.support, behind: toGray(scene.behind), outline: scene.outline });
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
