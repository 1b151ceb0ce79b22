/**
 * The defect painter. Each defect kind draws an alpha map (how strongly each
 * pixel is altered) and blends a new appearance into a copy of the scene.
 * Sizes are drawn log-uniformly so small and large defects are equally
 * common; blob defects cover about 1–10 % of the image, scratches are thin
 * curves from about a tenth to half of the image across.
 */
import { clamp01, fbm, smoothstep, valueNoise } from "./noise.js";
import { cloneRaster, createMap, type FloatMap, type Raster } from "./raster.js";
import type { Rng } from "./rng.js";
import type { Scene } from "./scene.js";

export const DEFECT_KINDS = ["scratch", "hole", "contamination", "color"] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** Fraction of the image area a blob defect aims to cover (before clipping to the part). */
const BLOB_AREA: readonly [number, number] = [0.01, 0.1];

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

function boxAround(cx: number, cy: number, r: number, w: number, h: number): Box {
  return {
    x0: Math.max(0, Math.floor(cx - r)),
    y0: Math.max(0, Math.floor(cy - r)),
    x1: Math.min(w - 1, Math.ceil(cx + r)),
    y1: Math.min(h - 1, Math.ceil(cy + r)),
  };
}

/**
 * An irregular blob: a circle whose radius is modulated by a few random
 * harmonics, with a noisy boundary of width about `edge` pixels.
 */
export function blob(rng: Rng, w: number, h: number, cx: number, cy: number, radius: number, roughness: number, edge: number): FloatMap {
  const map = createMap(w, h);
  const harmonics: Array<[number, number, number]> = [];
  for (let k = 2; k <= 6; k++) harmonics.push([k, (roughness * rng.range(0.3, 1)) / k, rng.range(0, 2 * Math.PI)]);
  const stretch = rng.range(0.7, 1.3);
  const angle = rng.range(0, Math.PI);
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const jagSeed = rng.seed();
  const box = boxAround(cx, cy, radius * 2.2, w, h);
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      const dx = x - cx;
      const dy = y - cy;
      // An elliptical stretch so blobs are not all round.
      const ex = (dx * ca + dy * sa) / stretch;
      const ey = (-dx * sa + dy * ca) * stretch;
      const t = Math.atan2(ey, ex);
      let rt = 1;
      for (const [k, a, p] of harmonics) rt += a * Math.cos(k * t + p);
      const dist = Math.hypot(ex, ey) - radius * rt + roughness * 3 * valueNoise(x * 0.25, y * 0.25, jagSeed);
      map.data[y * w + x] = 1 - smoothstep(-edge, edge, dist);
    }
  }
  return map;
}

export function multiplyInto(map: FloatMap, by: FloatMap): void {
  for (let i = 0; i < map.data.length; i++) map.data[i] = (map.data[i] as number) * (by.data[i] as number);
}

/** A blob centre: anywhere on a texture, on the part's body for an object. */
function blobCentre(rng: Rng, scene: Scene, radius: number): [number, number] {
  const { width: w, height: h } = scene.image;
  const margin = Math.min(radius * 0.6, Math.min(w, h) * 0.3);
  for (let attempt = 0; attempt < 200; attempt++) {
    const x = rng.range(margin, w - margin);
    const y = rng.range(margin, h - margin);
    if ((scene.support.data[Math.floor(y) * w + Math.floor(x)] as number) > 0.95) return [x, y];
  }
  return [w / 2, h / 2];
}

function blobRadius(rng: Rng, w: number, h: number, range: readonly [number, number]): number {
  return Math.sqrt((rng.logRange(range[0], range[1]) * w * h) / Math.PI);
}

/** Mean of each channel where `alpha` is large: the local colour a defect must stand out from. */
export function meanUnder(img: Raster, alpha: FloatMap): number[] {
  const sums = new Array<number>(img.channels).fill(0);
  let n = 0;
  for (let i = 0; i < alpha.data.length; i++) {
    if ((alpha.data[i] as number) < 0.5) continue;
    n++;
    for (let c = 0; c < img.channels; c++) sums[c] = (sums[c] as number) + (img.data[i * img.channels + c] as number);
  }
  return sums.map((s) => (n > 0 ? s / n : 0.5));
}

export function blend(img: Raster, alpha: FloatMap, target: (i: number, c: number, old: number) => number): void {
  const ch = img.channels;
  for (let i = 0; i < alpha.data.length; i++) {
    const a = alpha.data[i] as number;
    if (a <= 0) continue;
    for (let c = 0; c < ch; c++) {
      const o = i * ch + c;
      const old = img.data[o] as number;
      img.data[o] = old + (target(i, c, old) - old) * a;
    }
  }
}

export function luminance(rgb: readonly number[]): number {
  return rgb.length === 1 ? (rgb[0] as number) : 0.299 * (rgb[0] as number) + 0.587 * (rgb[1] as number) + 0.114 * (rgb[2] as number);
}

function paintScratch(rng: Rng, scene: Scene, out: Raster): FloatMap {
  const { width: w, height: h } = out;
  const size = Math.min(w, h);
  const isObject = scene.behind !== undefined;
  const length = rng.logRange(0.12, isObject ? 0.35 : 0.55) * size;
  const [mx, my] = blobCentre(rng, scene, length * 0.3);
  const angle = rng.range(0, Math.PI);
  const ax = Math.cos(angle) * length * 0.5;
  const ay = Math.sin(angle) * length * 0.5;
  const bend = rng.range(-0.25, 0.25) * length;
  const p0 = [mx - ax, my - ay];
  const p2 = [mx + ax, my + ay];
  const p1 = [mx - Math.sin(angle) * bend, my + Math.cos(angle) * bend];
  const halfWidth = rng.range(0.6, 1.8);
  const segments = 48;
  const pts: Array<[number, number]> = [];
  for (let k = 0; k <= segments; k++) {
    const t = k / segments;
    const s = 1 - t;
    pts.push([
      s * s * (p0[0] as number) + 2 * s * t * (p1[0] as number) + t * t * (p2[0] as number),
      s * s * (p0[1] as number) + 2 * s * t * (p1[1] as number) + t * t * (p2[1] as number),
    ]);
  }
  const alpha = createMap(w, h);
  const pad = halfWidth + 2;
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const box: Box = {
    x0: Math.max(0, Math.floor(Math.min(...xs) - pad)),
    y0: Math.max(0, Math.floor(Math.min(...ys) - pad)),
    x1: Math.min(w - 1, Math.ceil(Math.max(...xs) + pad)),
    y1: Math.min(h - 1, Math.ceil(Math.max(...ys) + pad)),
  };
  const depthSeed = rng.seed();
  for (let y = box.y0; y <= box.y1; y++) {
    for (let x = box.x0; x <= box.x1; x++) {
      let best = Infinity;
      let bestT = 0;
      for (let k = 0; k < segments; k++) {
        const [x0, y0] = pts[k] as [number, number];
        const [x1, y1] = pts[k + 1] as [number, number];
        const vx = x1 - x0;
        const vy = y1 - y0;
        const t = clamp01(((x - x0) * vx + (y - y0) * vy) / (vx * vx + vy * vy));
        const dist = Math.hypot(x - x0 - t * vx, y - y0 - t * vy);
        if (dist < best) {
          best = dist;
          bestT = (k + t) / segments;
        }
      }
      // The scratch is deepest in the middle and fades out at both ends, as a dragged burr leaves it.
      const taper = smoothstep(0, 0.12, bestT) * smoothstep(1, 0.88, bestT);
      const depth = 0.75 + 0.25 * valueNoise(bestT * 12, 0, depthSeed);
      alpha.data[y * w + x] = (1 - smoothstep(halfWidth - 0.5, halfWidth + 0.6, best)) * taper * depth;
    }
  }
  multiplyInto(alpha, scene.support);
  // Bright where the scratch cuts through to bare metal / pale fibre, dark where it is a groove.
  const local = luminance(meanUnder(out, scene.support));
  const bright = local < 0.45 ? true : local > 0.62 ? false : rng.chance(0.5);
  const tone = bright ? Math.min(1, local + rng.range(0.35, 0.5)) : Math.max(0.02, local - rng.range(0.3, 0.4));
  blend(out, alpha, () => tone);
  return alpha;
}

function paintHole(rng: Rng, scene: Scene, out: Raster): FloatMap {
  const { width: w, height: h } = out;
  if (scene.behind && scene.outline && scene.outline.length > 0) {
    // Missing part: a chunk broken off the contour, so the belt shows through.
    const [ox, oy] = rng.pick(scene.outline);
    const radius = blobRadius(rng, w, h, [0.015, 0.09]);
    const alpha = blob(rng, w, h, ox, oy, radius, 0.25, 0.8);
    const behind = scene.behind;
    blend(out, alpha, (i, c) => behind.data[i * out.channels + c] as number);
    return alpha;
  }
  const radius = blobRadius(rng, w, h, BLOB_AREA) * 0.9;
  const [cx, cy] = blobCentre(rng, scene, radius);
  const alpha = blob(rng, w, h, cx, cy, radius, 0.35, 1.0);
  // Depth shading: the far wall of the hole catches a little light, the rest is near black.
  const ch = out.channels;
  blend(out, alpha, (i) => {
    const x = i % w;
    const y = Math.floor(i / w);
    const rel = ((x - cx) * -0.6 + (y - cy) * -0.8) / radius;
    return 0.03 + 0.05 * clamp01(-rel);
  });
  // A slightly raised, frayed rim around the hole.
  const rim = blob(rng, w, h, cx, cy, radius * 1.15, 0.35, 1.5);
  for (let i = 0; i < rim.data.length; i++) {
    const r = (rim.data[i] as number) * (1 - (alpha.data[i] as number));
    if (r <= 0) continue;
    for (let c = 0; c < ch; c++) out.data[i * ch + c] = (out.data[i * ch + c] as number) * (1 - 0.35 * r);
    alpha.data[i] = Math.max(alpha.data[i] as number, r * 0.35);
  }
  return alpha;
}

const CONTAMINANTS_RGB: ReadonlyArray<readonly [number, number, number]> = [
  [0.22, 0.13, 0.05], // oil or grease
  [0.58, 0.27, 0.08], // rust
  [0.93, 0.93, 0.88], // powder or paint dust
  [0.14, 0.42, 0.2], // green paint
  [0.12, 0.2, 0.5], // blue fibre / marker
];

function paintContamination(rng: Rng, scene: Scene, out: Raster): FloatMap {
  const { width: w, height: h } = out;
  const isObject = scene.behind !== undefined;
  const radius = blobRadius(rng, w, h, isObject ? [0.012, 0.08] : BLOB_AREA);
  const [cx, cy] = blobCentre(rng, scene, radius);
  const alpha = blob(rng, w, h, cx, cy, radius, 0.5, 1.2);
  multiplyInto(alpha, scene.support);
  const local = meanUnder(out, alpha);
  let colour: readonly number[];
  if (out.channels === 1) {
    colour = [luminance(local) > 0.45 ? rng.range(0.05, 0.15) : rng.range(0.85, 0.95)];
  } else {
    // The contaminant must differ from the material under it; skip palette entries too close in colour.
    const far = CONTAMINANTS_RGB.filter((p) => Math.hypot(p[0] - (local[0] as number), p[1] - (local[1] as number), p[2] - (local[2] as number)) > 0.35);
    colour = rng.pick(far.length > 0 ? far : CONTAMINANTS_RGB);
  }
  const opacity = rng.range(0.75, 0.95);
  const texSeed = rng.seed();
  const ch = out.channels;
  for (let i = 0; i < alpha.data.length; i++) {
    const a0 = alpha.data[i] as number;
    if (a0 <= 0) continue;
    const x = i % w;
    const y = Math.floor(i / w);
    // Foreign texture: the stain is itself blotchy, not a flat fill.
    const tex = fbm(x / 4, y / 4, texSeed, 3);
    const a = a0 * opacity * (0.85 + 0.15 * tex);
    alpha.data[i] = a;
    for (let c = 0; c < ch; c++) {
      const o = i * ch + c;
      // Without colour to tell it apart, a gray stain needs a grainier texture than a brightness change has.
      const target = clamp01(ch === 1 ? (colour[0] as number) + 0.22 * tex : (colour[c] as number) * (1 + 0.25 * tex));
      out.data[o] = (out.data[o] as number) * (1 - a) + target * a;
    }
  }
  return alpha;
}

function paintColourChange(rng: Rng, scene: Scene, out: Raster): FloatMap {
  const { width: w, height: h } = out;
  const isObject = scene.behind !== undefined;
  const radius = blobRadius(rng, w, h, isObject ? [0.015, 0.09] : BLOB_AREA);
  const [cx, cy] = blobCentre(rng, scene, radius);
  const alpha = blob(rng, w, h, cx, cy, radius, 0.3, 3);
  multiplyInto(alpha, scene.support);
  const ch = out.channels;
  let factors: number[];
  if (ch === 1) {
    factors = [rng.chance(0.5) ? rng.range(0.55, 0.7) : rng.range(1.35, 1.55)];
  } else {
    // A hue shift that keeps the texture: scale channels unequally, plus a brightness change.
    const hue = rng.range(0, 2 * Math.PI);
    // Bare metal takes a subdued tint (heat or chemical discolouration); dyed cloth a stronger one.
    const sat = isObject ? rng.range(0.22, 0.38) : rng.range(0.4, 0.6);
    const gain = rng.range(0.85, 1.2);
    factors = [0, 1, 2].map((c) => gain * (1 + sat * Math.cos(hue + (c * 2 * Math.PI) / 3)));
  }
  blend(out, alpha, (_i, c, old) => clamp01(old * (factors[c] as number)));
  return alpha;
}

/**
 * Paints one defect of `kind` into a copy of the scene. Returns the altered
 * scene and the alpha map of where it painted (the mask is measured later,
 * on the 8-bit output, so only visible changes count).
 */
export function paintDefect(kind: DefectKind, rng: Rng, scene: Scene): { image: Raster; alpha: FloatMap } {
  const out = cloneRaster(scene.image);
  let alpha: FloatMap;
  switch (kind) {
    case "scratch":
      alpha = paintScratch(rng, scene, out);
      break;
    case "hole":
      alpha = paintHole(rng, scene, out);
      break;
    case "contamination":
      alpha = paintContamination(rng, scene, out);
      break;
    case "color":
      alpha = paintColourChange(rng, scene, out);
      break;
  }
  return { image: out, alpha };
}
