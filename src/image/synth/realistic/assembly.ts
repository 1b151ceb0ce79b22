/**
 * The logical class: a tall 400 × 800 RGB frame of a mounting plate that
 * carries eight hex nuts (the demo generator's nut, rendered small) in two
 * columns of four. Every part looks normal; the anomaly is the assembly:
 * one nut missing, or an extra nut where none belongs. The mask covers the
 * missing or extra nut's footprint. Patch-level methods see only normal
 * local texture here, as on the factory suite's tall object with wrong or
 * missing parts.
 */
import { clamp01, fbm } from "../noise.js";
import { renderHexNut } from "../object.js";
import { createMap, createRaster, type FloatMap, type Raster } from "../raster.js";
import type { Scene } from "../scene.js";
import type { Rng } from "../rng.js";
import type { Painted, RealisticClass, Textures } from "./types.js";
import { need } from "./types.js";
import { presence } from "./defects.js";
import { sampleTexture } from "./texture-source.js";

const WIDTH = 400;
const HEIGHT = 800;
const PART = 96;
/** Slot centres: two columns of four, shared with kit. */
export const COLUMNS = [110, 290] as const;
export const ROWS = [110, 300, 490, 680] as const;
/** Free places between the slots, where an extra part can be dropped. */
const FREE = [
  [200, 205],
  [200, 395],
  [200, 585],
] as const;

export interface Part {
  readonly image: Raster;
  readonly alpha: FloatMap;
  readonly x: number;
  readonly y: number;
}

interface Parts {
  readonly plate: Raster;
  readonly slots: readonly Part[];
  readonly extra: Part;
}

/** The parts of each rendered scene, for the painter (a scene is private to one sample). */
const partsOf = new WeakMap<Scene, Parts>();

/** A nut centred at (cx, cy); `tint` multiplies its colour (a part of another material). */
export function renderPart(rng: Rng, cx: number, cy: number, tint?: readonly number[]): Part {
  const nut = renderHexNut(rng, PART, PART);
  if (!nut.behind) throw new RangeError("hex nut scene without background");
  const alpha = presence(nut.image, nut.behind);
  if (tint) for (let i = 0; i < nut.image.data.length; i++) nut.image.data[i] = clamp01(nut.image.data[i]! * tint[i % 3]!);
  return { image: nut.image, alpha, x: Math.round(cx - PART / 2), y: Math.round(cy - PART / 2) };
}

/** Where a part covers a w×h frame: its alpha, placed (what a part's mask is made of). */
export function footprint(w: number, h: number, part: Part): FloatMap {
  const foot = createMap(w, h);
  for (let py = 0; py < PART; py++) {
    for (let px = 0; px < PART; px++) {
      const x = part.x + px;
      const y = part.y + py;
      if (x >= 0 && y >= 0 && x < w && y < h) foot.data[y * w + x] = part.alpha.data[py * PART + px]!;
    }
  }
  return foot;
}

/** Pastes a part onto `img` (with a soft contact shadow), and returns its footprint in frame coordinates. */
export function paste(img: Raster, part: Part): FloatMap {
  const { width: w, height: h } = img;
  for (let py = 0; py < PART; py++) {
    for (let px = 0; px < PART; px++) {
      const x = part.x + px;
      const y = part.y + py;
      if (x < 0 || y < 0 || x >= w || y >= h) continue;
      // Shadow: the footprint shifted down-right by a few pixels darkens the plate.
      const sx = px - 3;
      const sy = py - 4;
      const shadow = sx >= 0 && sy >= 0 ? part.alpha.data[sy * PART + sx]! : 0;
      const a = part.alpha.data[py * PART + px]!;
      const i = y * w + x;
      for (let c = 0; c < 3; c++) {
        const under = img.data[i * 3 + c]! * (1 - 0.45 * shadow);
        img.data[i * 3 + c] = under * (1 - a) + part.image.data[(py * PART + px) * 3 + c]! * a;
      }
    }
  }
  return footprint(w, h, part);
}

/** The blue-gray powder-coated plate the parts sit on. */
export function renderPlate(rng: Rng, width: number, height: number, tex: Textures): Raster {
  const canvas = need(tex, "canvas");
  const t = sampleTexture(canvas, width, height, { ox: rng.range(0, 1024), oy: rng.range(0, 1024), angle: rng.range(-0.02, 0.02), scale: 1, contrast: 0.5 });
  const tint = [0.36, 0.42, 0.5].map((v) => v + rng.range(-0.015, 0.015));
  const plate = createRaster(width, height, 3);
  const seed = rng.seed();
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    const s = 1 + (t.data[i]! - 0.5) * 0.5 + 0.04 * fbm(x / 90, y / 90, seed, 2);
    for (let c = 0; c < 3; c++) plate.data[i * 3 + c] = clamp01(tint[c]! * s);
  }
  return plate;
}

function compose(parts: Parts, skip: number, withExtra: boolean): { image: Raster; foot?: FloatMap } {
  const img: Raster = { ...parts.plate, data: new Float32Array(parts.plate.data) };
  let foot: FloatMap | undefined;
  parts.slots.forEach((p, k) => {
    if (k !== skip) paste(img, p);
  });
  if (withExtra) foot = paste(img, parts.extra);
  return foot ? { image: img, foot } : { image: img };
}

/** What the plate classes (assembly, kit) share: the tall frame, its texture and camera. */
export const PLATE_FRAME = {
  channels: 3,
  textures: ["canvas"],
  camera: { gain: [0.92, 1.08], slope: 0.06, vignette: [0.02, 0.1], balance: 0.025, noiseSigma: [0.005, 0.01] },
  sizeRange: [WIDTH, WIDTH, HEIGHT, HEIGHT],
  size: () => [WIDTH, HEIGHT],
} as const satisfies Partial<RealisticClass>;

/** The scene of a composed plate (all of it is the product), its parts kept for the class's painter. */
export function plateScene<P>(image: Raster, parts: P, partsOf: WeakMap<Scene, P>): Scene {
  const support = createMap(image.width, image.height);
  support.data.fill(1);
  const scene: Scene = { image, support };
  partsOf.set(scene, parts);
  return scene;
}

export const assembly: RealisticClass = {
  name: "assembly",
  exercises: "logical anomalies (a missing or an extra part) on a tall 400x800 colour frame",
  ...PLATE_FRAME,
  train: 250,
  testGood: 20,
  testPerDefect: 12,
  defects: ["missing_part", "extra_part"],
  maxDefectArea: 0.03,
  render(rng, width, height, tex) {
    const plate = renderPlate(rng, width, height, tex);
    const slots: Part[] = [];
    for (const y of ROWS) for (const x of COLUMNS) slots.push(renderPart(rng, x + rng.range(-3, 3), y + rng.range(-3, 3)));
    const [fx, fy] = rng.pick(FREE);
    const extra = renderPart(rng, fx + rng.range(-10, 10), fy + rng.range(-8, 8));
    const parts: Parts = { plate, slots, extra };
    return plateScene(compose(parts, -1, false).image, parts, partsOf);
  },
  paint(defect, rng, scene): Painted {
    const parts = partsOf.get(scene);
    if (!parts) throw new RangeError("assembly scene was not rendered by the assembly class");
    switch (defect) {
      case "missing_part": {
        const k = rng.int(0, parts.slots.length - 1);
        const { image } = compose(parts, k, false);
        // The footprint of the part that is not there.
        return { image, alpha: footprint(image.width, image.height, parts.slots[k]!) };
      }
      case "extra_part": {
        const { image, foot } = compose(parts, -1, true);
        if (!foot) throw new RangeError("extra part was not placed");
        return { image, alpha: foot };
      }
      default:
        throw new RangeError(`assembly has no defect '${defect}'`);
    }
  },
};
