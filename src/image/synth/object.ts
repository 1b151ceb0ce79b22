/**
 * The object class: a zinc-plated hex nut seen from above on a rubber
 * conveyor belt, lit from the upper left. Each call shifts, rotates and
 * scales the nut a little and draws a new belt, as consecutive parts on a
 * line would look.
 */
import { clamp01, fbm, smoothstep, valueNoise } from "./noise.js";
import { createMap, createRaster } from "./raster.js";
import type { Rng } from "./rng.js";
import type { Scene } from "./scene.js";

/** Signed distance to a flat-topped regular hexagon with apothem `a` (negative inside). */
function sdHexagon(px: number, py: number, a: number): number {
  const kx = -0.866025404;
  const ky = 0.5;
  const kz = 0.577350269;
  let x = Math.abs(px);
  let y = Math.abs(py);
  const dot = Math.min(kx * x + ky * y, 0);
  x -= 2 * dot * kx;
  y -= 2 * dot * ky;
  const cx = Math.min(Math.max(x, -kz * a), kz * a);
  x -= cx;
  y -= a;
  return Math.hypot(x, y) * Math.sign(y);
}

const LIGHT_X = -0.62;
const LIGHT_Y = -0.78;

export function renderHexNut(rng: Rng, width: number, height: number): Scene {
  const scale = Math.min(width, height) / 224;
  const cx = width / 2 + rng.range(-6, 6) * scale;
  const cy = height / 2 + rng.range(-6, 6) * scale;
  const phi = rng.range(-0.14, 0.14);
  const cosP = Math.cos(phi);
  const sinP = Math.sin(phi);
  const apothem = 64 * scale * rng.range(0.97, 1.03);
  const corner = 4 * scale;
  const chamferR = apothem * 0.97;
  const holeR = apothem * 0.56;
  const threadR = holeR * 0.84;
  const plating = rng.range(-0.03, 0.03);
  const metal = [0.7 + plating, 0.7 + plating * 0.8, 0.66 + plating * 0.3];
  const belt = [0.2, 0.22, 0.21].map((c) => c + rng.range(-0.015, 0.015));
  const beltSeed = rng.seed();
  const grainSeed = rng.seed();
  const faceSeed = rng.seed();
  const shadowDx = 5 * scale;
  const shadowDy = 6 * scale;

  const behind = createRaster(width, height, 3);
  const img = createRaster(width, height, 3);
  const support = createMap(width, height);
  const b = behind.data;
  const d = img.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      // Belt: fine rubber grain plus slow wear marks.
      const grain = 0.06 * valueNoise(x * 0.7, y * 0.7, beltSeed) + 0.05 * fbm(x / 30, y / 30, beltSeed + 1, 3);
      const sx = x - cx - shadowDx;
      const sy = y - cy - shadowDy;
      const shadowDist = sdHexagon(sx * cosP + sy * sinP, -sx * sinP + sy * cosP, apothem);
      const shadow = 1 - 0.5 * smoothstep(10 * scale, -6 * scale, shadowDist);
      for (let c = 0; c < 3; c++) b[o + c] = (belt[c] as number) * (1 + grain) * shadow;

      const lx = (x - cx) * cosP + (y - cy) * sinP;
      const ly = -(x - cx) * sinP + (y - cy) * cosP;
      const r = Math.hypot(lx, ly);
      const sd = sdHexagon(lx, ly, apothem - corner) - corner;
      const cover = clamp01(0.5 - sd) * clamp01(r - threadR + 0.5);
      if (cover <= 0) {
        for (let c = 0; c < 3; c++) d[o + c] = b[o + c] as number;
        // Looking into the bore: the belt deep in the nut's own shadow.
        if (r < threadR + 1) for (let c = 0; c < 3; c++) d[o + c] = (b[o + c] as number) * 0.35;
        continue;
      }
      const nx = r > 0 ? (x - cx) / r : 0;
      const ny = r > 0 ? (y - cy) / r : 0;
      const facing = -(nx * LIGHT_X + ny * LIGHT_Y);
      let shade: number;
      if (r < holeR) {
        // Thread flanks seen from above: a helix, so rings that drift with the angle.
        const angle = Math.atan2(ly, lx);
        const ridge = 0.5 + 0.5 * Math.sin(((r - threadR) * 2 * Math.PI) / (2.4 * scale) + angle);
        shade = (0.32 + 0.22 * ridge) * (1 - 0.3 * facing);
      } else if (r < holeR + 3 * scale) {
        shade = 0.85 - 0.3 * facing;
      } else if (r <= chamferR) {
        const turning = 0.025 * Math.sin(r * 2.6 + 1.5 * valueNoise(r * 0.3, 0, faceSeed));
        const mottle = 0.05 * fbm(lx / 25, ly / 25, grainSeed, 3);
        const tilt = 0.07 * ((x - cx) * LIGHT_X + (y - cy) * LIGHT_Y) / -apothem;
        shade = 1 + turning + mottle + tilt;
      } else {
        // Chamfered corners slope outward: bright where they face the light.
        shade = 0.78 + 0.3 * facing + 0.03 * fbm(lx / 10, ly / 10, grainSeed + 5, 2);
      }
      // A thin bright rim where the flank catches the light.
      if (sd > -2.5 * scale) shade *= 1 + 0.25 * Math.max(0, facing) * smoothstep(-2.5 * scale, -0.5 * scale, sd);
      for (let c = 0; c < 3; c++) {
        const metalC = (metal[c] as number) * shade;
        d[o + c] = (b[o + c] as number) * (1 - cover) + metalC * cover;
      }
      // Surface defects belong on the flat face and chamfer, not in the bore.
      support.data[y * width + x] = cover * smoothstep(holeR + 2 * scale, holeR + 4 * scale, r) * clamp01(-sd - 1);
    }
  }
  const outline: Array<[number, number]> = [];
  for (let k = 0; k < 96; k++) {
    const t = (k / 96) * 2 * Math.PI;
    const dx = Math.cos(t);
    const dy = Math.sin(t);
    // Walk out along the ray until leaving the hexagon: its contour in that direction.
    let rr = apothem * 0.9;
    while (sdHexagon(dx * rr, dy * rr, apothem - corner) - corner < 0) rr += 0.5;
    outline.push([cx + (dx * cosP - dy * sinP) * rr, cy + (dx * sinP + dy * cosP) * rr]);
  }
  return { image: img, support, behind, outline };
}
