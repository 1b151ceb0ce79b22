/**
 * A backlit glass part at 256 px, gray (the factory suite's glass parts,
 * whose small edge and angle defects localize worst: pixel AUROC 77): a
 * clear plate with slightly rounded corners over a diffuser, turned by any
 * angle and shifted, so the only thing the camera sees of it is its rim (a
 * dark line where the edge bends the light away, darker on the sides that
 * face the station's light, a faint bright one just inside, and the back
 * face's fainter rim a thickness away), a faint drop in transmission, the
 * lamp's reflection where the glass passes under it, and specks of dust.
 * Its defects change the rim's path by a few pixels: a chip (a small bite
 * out of a straight edge) and a broken corner (a corner cut off at a slant),
 * each under 0.5 % of the frame, and a wrong angle (one side ground a little
 * off square, marked along that side). All are drawn from the same signed
 * distance to the part's boundary as the normal rim, so a defect is the rim
 * taking another course, not a new colour.
 */
import { createMap, createRaster, type FloatMap, type Raster } from "../raster.js";
import { fbm } from "../noise.js";
import type { Rng } from "../rng.js";
import type { Scene } from "../scene.js";
import type { Painted, RealisticClass } from "./types.js";

const SIZE = 256;

/** The plate as drawn: centre, half sides, corner radius and turn, in pixels and radians. */
interface Plate {
  readonly cx: number;
  readonly cy: number;
  readonly hw: number;
  readonly hh: number;
  readonly radius: number;
  readonly angle: number;
  readonly level: number;
  readonly mottleSeed: number;
  /** The back face's rim, seen through the glass at a slant: offset from the front's by the part's thickness. */
  readonly backX: number;
  readonly backY: number;
  /** The station's light (fixed, but for a small jitter): a rim facing it is darker than one facing away. */
  readonly lightAngle: number;
  /** A reflection of the lamp: a soft bright band across the glass near one place of the frame, where the glass passes under it. */
  readonly glare: { readonly x: number; readonly y: number; readonly angle: number; readonly width: number; readonly amp: number };
  /** Dust on the glass or the diffuser: tiny dark specks, as on every real frame (not defects). */
  readonly dust: ReadonlyArray<{ readonly x: number; readonly y: number; readonly r: number; readonly dark: number }>;
}

/** A bite out of the plate: the points a cut removes, as a signed distance (negative inside the cut). */
type Cut = (x: number, y: number) => number;

const platesOf = new WeakMap<Scene, Plate>();

/** Plate coordinates of image point (x, y): the plate's axes, its centre at 0. */
function local(p: Plate, x: number, y: number): [number, number] {
  const dx = x - p.cx;
  const dy = y - p.cy;
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  return [c * dx + s * dy, -s * dx + c * dy];
}

/** Image point of plate coordinates (u, v). */
function world(p: Plate, u: number, v: number): [number, number] {
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  return [p.cx + c * u - s * v, p.cy + s * u + c * v];
}

/** Signed distance to the rounded rectangle's boundary, negative inside. */
function plateDistance(p: Plate, x: number, y: number): number {
  const [u, v] = local(p, x, y);
  const qx = Math.abs(u) - (p.hw - p.radius);
  const qy = Math.abs(v) - (p.hh - p.radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - p.radius;
}

/** The frame as the camera sees it: the diffuser, the plate's transmission and its rim, from the distance to the (cut) boundary. */
function draw(p: Plate, width: number, height: number, cut?: Cut): Raster {
  const img = createRaster(width, height, 1);
  const edge = (px: number, py: number) => (cut ? Math.max(plateDistance(p, px, py), -cut(px, py)) : plateDistance(p, px, py));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = edge(x + 0.5, y + 0.5);
      const back = edge(x + 0.5 - p.backX, y + 0.5 - p.backY);
      let light = p.level + 0.025 * fbm(x / 70, y / 70, p.mottleSeed, 3);
      for (const speck of p.dust) light -= speck.dark * Math.exp(-((x + 0.5 - speck.x) ** 2 + (y + 0.5 - speck.y) ** 2) / (speck.r * speck.r));
      const inside = Math.min(1, Math.max(0, 0.5 - d));
      // The rim's shade by where its edge faces: the normal from the distance's gradient, near the rim only.
      let shade = 1;
      if (Math.abs(d) < 6) {
        const gx = edge(x + 1.5, y + 0.5) - edge(x - 0.5, y + 0.5);
        const gy = edge(x + 0.5, y + 1.5) - edge(x + 0.5, y - 0.5);
        shade = 0.55 + 0.45 * Math.cos(Math.atan2(gy, gx) - p.lightAngle);
      }
      // Refraction at the edge: a dark band centred just inside the boundary, a thin bright one further in;
      // the back face's rim, fainter, a thickness away.
      const dark = shade * (0.3 * Math.exp(-(((d + 1.2) / 1.1) ** 2)) + 0.1 * Math.exp(-(((back + 1.2) / 1.1) ** 2)));
      const bright = 0.07 * Math.exp(-(((d + 3.6) / 0.9) ** 2));
      const g = p.glare;
      const across = (x + 0.5 - g.x) * -Math.sin(g.angle) + (y + 0.5 - g.y) * Math.cos(g.angle);
      const glare = g.amp * inside * Math.exp(-((across / g.width) ** 2));
      img.data[y * width + x] = light * (1 - 0.05 * inside) - dark + bright + glare;
    }
  }
  return img;
}

/**
 * Where a cut changed the plate: the glass it removed and the rim band around it (alpha 1), nothing else;
 * only where `marks` (of plate coordinates) holds, when given.
 */
function cutMask(p: Plate, width: number, height: number, cut: Cut, marks?: (u: number, v: number) => boolean): FloatMap {
  const alpha = createMap(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // The glass the cut removed and the new rim (its dark and bright lines) within 4.5 px of the cut's edge, and the same on the back face's rim.
      const changed = (px: number, py: number) => plateDistance(p, px, py) < 1 && cut(px, py) < 4.5 && (!marks || marks(...local(p, px, py)));
      if (changed(x + 0.5, y + 0.5) || changed(x + 0.5 - p.backX, y + 0.5 - p.backY)) alpha.data[y * width + x] = 1;
    }
  }
  return alpha;
}

/** The back rim's offset: 1.5–3.5 px in any direction, as the part tilts on the fixture. */
function thickness(rng: Rng): { backX: number; backY: number } {
  const t = rng.range(1.5, 3.5);
  const a = rng.range(0, 2 * Math.PI);
  return { backX: t * Math.cos(a), backY: t * Math.sin(a) };
}

export const glassPlate: RealisticClass = {
  name: "glass_plate",
  exercises: "small edge and angle defects on a backlit 256-px gray glass part seen only by its rim",
  channels: 1,
  textures: [],
  train: 250,
  testGood: 20,
  testPerDefect: 12,
  defects: ["edge_chip", "broken_corner", "wrong_angle"],
  camera: { gain: [0.94, 1.06], slope: 0.05, vignette: [0.02, 0.1], balance: 0, noiseSigma: [0.004, 0.008] },
  // Chips and broken corners stay under 0.5 %; a wrong angle marks a whole side.
  maxDefectArea: 0.015,
  sizeRange: [SIZE, SIZE, SIZE, SIZE],
  size: () => [SIZE, SIZE],
  render(rng, width, height) {
    const long = rng.range(0.52, 0.6) * width;
    const plate: Plate = {
      cx: width / 2 + rng.range(-0.08, 0.08) * width,
      cy: height / 2 + rng.range(-0.08, 0.08) * height,
      hw: long / 2,
      hh: long / rng.range(1.3, 1.6) / 2,
      radius: rng.range(2, 4),
      angle: rng.range(0, Math.PI),
      level: rng.range(0.6, 0.66),
      mottleSeed: rng.seed(),
      ...thickness(rng),
      lightAngle: -Math.PI / 4 + rng.range(-0.1, 0.1),
      glare: { x: width * 0.62 + rng.range(-15, 15), y: height * 0.38 + rng.range(-15, 15), angle: rng.range(0.6, 1.0), width: rng.range(3, 8), amp: rng.range(0.02, 0.07) },
      dust: Array.from({ length: rng.int(0, 3) }, () => ({ x: rng.range(0, width), y: rng.range(0, height), r: rng.range(0.6, 1.4), dark: rng.range(0.04, 0.12) })),
    };
    const image = draw(plate, width, height);
    const support = createMap(width, height);
    for (let i = 0; i < support.data.length; i++) support.data[i] = plateDistance(plate, (i % width) + 0.5, Math.floor(i / width) + 0.5) < -4 ? 1 : 0;
    // The diffuser alone: what shows where glass is missing.
    const behind = draw({ ...plate, hw: 0, hh: 0, radius: 0, cx: -1e6, glare: { ...plate.glare, amp: 0 } }, width, height);
    // The contour: 16 points along each side's straight stretch.
    const outline: [number, number][] = [];
    for (let k = 0; k < 16; k++) {
      const t = -0.9 + (1.8 * k) / 15;
      outline.push(world(plate, t * plate.hw, -plate.hh), world(plate, t * plate.hw, plate.hh), world(plate, -plate.hw, t * plate.hh), world(plate, plate.hw, t * plate.hh));
    }
    const scene: Scene = { image, support, behind, outline };
    platesOf.set(scene, plate);
    return scene;
  },
  paint(defect, rng, scene): Painted {
    const p = platesOf.get(scene);
    if (!p) throw new RangeError("glass_plate scene was not rendered by the glass_plate class");
    const { width, height } = scene.image;
    let cut: Cut;
    let marks: ((u: number, v: number) => boolean) | undefined;
    switch (defect) {
      case "edge_chip": {
        // A round bite of radius 3–6 px centred just outside a straight stretch of one of the four sides.
        const r = rng.range(3, 6);
        const side = rng.int(0, 3);
        const along = rng.range(-0.7, 0.7);
        const [u, v] = side < 2 ? [along * p.hw, (side === 0 ? -1 : 1) * (p.hh + r * 0.35)] : [(side === 2 ? -1 : 1) * (p.hw + r * 0.35), along * p.hh];
        const [nx, ny] = world(p, u, v);
        cut = (x, y) => Math.hypot(x - nx, y - ny) - r;
        break;
      }
      case "broken_corner": {
        // One corner cut off by a line 5–10 px in from it, slanted up to 25° from the corner's diagonal.
        const sx = rng.chance(0.5) ? 1 : -1;
        const sy = rng.chance(0.5) ? 1 : -1;
        const depth = rng.range(5, 10);
        const tilt = rng.range(-0.44, 0.44);
        const a = Math.atan2(sy, sx) + tilt;
        const [nu, nv] = [Math.cos(a), Math.sin(a)];
        // The corner's apex (of the sharp rectangle), the line's point `depth` in along the diagonal.
        const [pu, pv] = [sx * p.hw - (sx * depth) / Math.SQRT2, sy * p.hh - (sy * depth) / Math.SQRT2];
        cut = (x, y) => {
          const [u, v] = local(p, x, y);
          return -((u - pu) * nu + (v - pv) * nv);
        };
        break;
      }
      case "wrong_angle": {
        // One side ground at 1–2.5° off square, pivoting on one of its corners: a sliver from nothing at that corner to
        // 1.5–6.5 px at the other. Every stretch of the new side is a straight rim like any other, turned a little, and the
        // part is turned every way on the line: only the angles at its ends are wrong. The mask marks the side where it
        // stands 0.2 px or more off, as an inspector would mark the faulty edge.
        const horizontal = rng.chance(0.5);
        // Swap the axes for a vertical side, so the side is always v = s·half(v) in (a, b) coordinates.
        const [ha, hb] = horizontal ? [p.hw, p.hh] : [p.hh, p.hw];
        const ab = (u: number, v: number): [number, number] => (horizontal ? [u, v] : [v, u]);
        const s = rng.chance(0.5) ? 1 : -1; // which of the two parallel sides
        const pivot = rng.chance(0.5) ? 1 : -1; // which end stays
        const delta = (rng.range(1, 2.5) * Math.PI) / 180;
        // Direction along the new side from the pivot, turned inward by δ; its outward normal.
        const [da, db] = [-pivot * Math.cos(delta), -s * Math.sin(delta)];
        // Of the two normals, the one pointing out of the plate, as the side's own normal (0, s) does.
        const [na, nb] = da * s > 0 ? [-db, da] : [db, -da];
        const [pa, pb] = [pivot * ha, s * hb];
        cut = (x, y) => {
          const [a, b] = ab(...local(p, x, y));
          return -((a - pa) * na + (b - pb) * nb);
        };
        marks = (u, v) => {
          const [a] = ab(u, v);
          return (a - pa) * -pivot * Math.tan(delta) >= 0.2;
        };
        break;
      }
      default:
        throw new RangeError(`glass_plate has no defect '${defect}'`);
    }
    return { image: draw(p, width, height, cut), alpha: cutMask(p, width, height, cut, marks) };
  },
};
