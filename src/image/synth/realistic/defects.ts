/**
 * Defects the demo generator does not draw, at the scale real lines see
 * them: hairlines one or two pixels wide with a small contrast, pits under
 * half a percent of the frame, chips and fraying on an object's border, and
 * branching cracks. Each painter alters `out` in place and returns its alpha
 * map; the suite's mask is alpha ≥ 0.5, the geometric truth, not a visible
 * difference (a low-contrast hairline is a defect even where the camera
 * noise hides it in places). Blob shapes and blending come from the demo
 * generator's painter.
 */
import { blend, blob, luminance, meanUnder, multiplyInto } from "../defects.js";
import { clamp01, smoothstep, valueNoise } from "../noise.js";
import { createMap, type FloatMap, type Raster } from "../raster.js";
import type { Rng } from "../rng.js";
import type { Scene } from "../scene.js";

/** A point where `scene.support` is solid, at least `margin` from the frame edge. */
export function pointOnSupport(rng: Rng, scene: Scene, margin: number): [number, number] {
  const { width: w, height: h } = scene.image;
  const m = Math.min(margin, Math.min(w, h) * 0.3);
  for (let attempt = 0; attempt < 400; attempt++) {
    const x = rng.range(m, w - m);
    const y = rng.range(m, h - m);
    if ((scene.support.data[Math.floor(y) * w + Math.floor(x)] as number) > 0.95) return [x, y];
  }
  return [w / 2, h / 2];
}

/** Alpha of a polyline of the given half width (anti-aliased over about one pixel), with a per-vertex depth profile. */
function strokeAlpha(w: number, h: number, pts: ReadonlyArray<readonly [number, number]>, halfWidth: number, depth: (t: number) => number): FloatMap {
  const alpha = createMap(w, h);
  const pad = halfWidth + 2;
  const n = pts.length - 1;
  for (let k = 0; k < n; k++) {
    const [x0, y0] = pts[k]!;
    const [x1, y1] = pts[k + 1]!;
    const bx0 = Math.max(0, Math.floor(Math.min(x0, x1) - pad));
    const by0 = Math.max(0, Math.floor(Math.min(y0, y1) - pad));
    const bx1 = Math.min(w - 1, Math.ceil(Math.max(x0, x1) + pad));
    const by1 = Math.min(h - 1, Math.ceil(Math.max(y0, y1) + pad));
    const vx = x1 - x0;
    const vy = y1 - y0;
    const len2 = vx * vx + vy * vy || 1;
    for (let y = by0; y <= by1; y++) {
      for (let x = bx0; x <= bx1; x++) {
        const t = clamp01(((x - x0) * vx + (y - y0) * vy) / len2);
        const dist = Math.hypot(x - x0 - t * vx, y - y0 - t * vy);
        const a = (1 - smoothstep(halfWidth - 0.5, halfWidth + 0.5, dist)) * depth((k + t) / n);
        const i = y * w + x;
        if (a > (alpha.data[i] as number)) alpha.data[i] = a;
      }
    }
  }
  return alpha;
}

/**
 * A hairline scratch: a gently bent line 1–2 px wide whose tone differs
 * from the surface by only `contrast` (a fraction of full scale), darker or
 * brighter at random. Full strength along its length except short tapers.
 */
export function paintHairline(rng: Rng, scene: Scene, out: Raster, opts: { length: readonly [number, number]; contrast: readonly [number, number] }): FloatMap {
  const { width: w, height: h } = out;
  const size = Math.min(w, h);
  const length = rng.range(opts.length[0], opts.length[1]) * size;
  const [mx, my] = pointOnSupport(rng, scene, length * 0.5);
  const angle = rng.range(0, Math.PI);
  const bend = rng.range(-0.12, 0.12) * length;
  const ax = Math.cos(angle) * length * 0.5;
  const ay = Math.sin(angle) * length * 0.5;
  const p1 = [mx - Math.sin(angle) * bend, my + Math.cos(angle) * bend];
  const pts: Array<[number, number]> = [];
  const segments = Math.max(8, Math.round(length / 6));
  for (let k = 0; k <= segments; k++) {
    const t = k / segments;
    const s = 1 - t;
    pts.push([s * s * (mx - ax) + 2 * s * t * p1[0]! + t * t * (mx + ax), s * s * (my - ay) + 2 * s * t * p1[1]! + t * t * (my + ay)]);
  }
  // Half width 0.5–1.0 px: the line is one or two pixels wide.
  const halfWidth = rng.range(0.55, 1.0);
  const alpha = strokeAlpha(w, h, pts, halfWidth, (t) => smoothstep(0, 0.04, t) * smoothstep(1, 0.96, t));
  multiplyInto(alpha, scene.support);
  const delta = rng.range(opts.contrast[0], opts.contrast[1]) * (rng.chance(0.5) ? 1 : -1);
  blend(out, alpha, (_i, _c, old) => clamp01(old + delta));
  return alpha;
}

/**
 * A small pit, blowhole or spot covering `area` (a fraction of the frame,
 * kept under 0.5 %): dark inside for a hole, or a tone shift of `tone` for a
 * spot.
 */
export function paintSmallBlob(rng: Rng, scene: Scene, out: Raster, opts: { area: readonly [number, number]; tone: "hole" | readonly [number, number] }): FloatMap {
  const { width: w, height: h } = out;
  const radius = Math.sqrt((rng.logRange(opts.area[0], opts.area[1]) * w * h) / Math.PI);
  const [cx, cy] = pointOnSupport(rng, scene, radius * 2 + 2);
  const alpha = blob(rng, w, h, cx, cy, radius, 0.2, 0.7);
  multiplyInto(alpha, scene.support);
  const local = luminance(meanUnder(out, scene.support));
  if (opts.tone === "hole") {
    blend(out, alpha, (i) => {
      const x = i % w;
      const y = Math.floor(i / w);
      // A lit far wall, dark elsewhere: a cavity, not a painted dot.
      const rel = ((x - cx) * -0.6 + (y - cy) * -0.8) / Math.max(1, radius);
      return Math.max(0.02, local * 0.25) + 0.08 * clamp01(-rel);
    });
  } else {
    const delta = rng.range(opts.tone[0], opts.tone[1]) * (rng.chance(0.5) ? 1 : -1);
    blend(out, alpha, (_i, _c, old) => clamp01(old + delta));
  }
  return alpha;
}

/**
 * A chip broken off an object's border: a small blob centred on an outline
 * point, through which what lies behind the part shows.
 */
export function paintEdgeChip(rng: Rng, scene: Scene, out: Raster, opts: { area: readonly [number, number] }): FloatMap {
  const { width: w, height: h } = out;
  const outline = scene.outline;
  const behind = scene.behind;
  if (!outline || outline.length === 0 || !behind) throw new RangeError("edge chip needs a scene with an outline and a background");
  const [ox, oy] = rng.pick(outline);
  const radius = Math.sqrt((rng.logRange(opts.area[0], opts.area[1]) * w * h) / Math.PI) * 1.4;
  const alpha = blob(rng, w, h, ox, oy, radius, 0.3, 0.6);
  // Only what was part before counts: the chip removes material, it cannot remove background.
  const present = presence(out, behind);
  multiplyInto(alpha, present);
  blend(out, alpha, (i, c) => behind.data[i * out.channels + c] as number);
  return alpha;
}

/**
 * Fraying: a run of small chips along one stretch of the border, as a worn
 * or badly cut edge.
 */
export function paintFray(rng: Rng, scene: Scene, out: Raster, opts: { span: readonly [number, number]; bite: readonly [number, number] }): FloatMap {
  const { width: w, height: h } = out;
  const outline = scene.outline;
  const behind = scene.behind;
  if (!outline || outline.length === 0 || !behind) throw new RangeError("fray needs a scene with an outline and a background");
  const n = outline.length;
  const start = rng.int(0, n - 1);
  const span = Math.max(3, Math.round(rng.range(opts.span[0], opts.span[1]) * n));
  const present = presence(out, behind);
  const alpha = createMap(w, h);
  const seed = rng.seed();
  for (let k = 0; k < span; k += 2) {
    const [ox, oy] = outline[(start + k) % n]!;
    const r = rng.range(opts.bite[0], opts.bite[1]) * (0.6 + 0.8 * Math.abs(valueNoise(k * 0.3, 0, seed)));
    const bite = blob(rng, w, h, ox, oy, r, 0.4, 0.6);
    for (let i = 0; i < bite.data.length; i++) if ((bite.data[i] as number) > (alpha.data[i] as number)) alpha.data[i] = bite.data[i] as number;
  }
  multiplyInto(alpha, present);
  blend(out, alpha, (i, c) => behind.data[i * out.channels + c] as number);
  return alpha;
}

/**
 * A crack: a jagged random walk with a side branch or two, one to three
 * pixels wide, darker than the surface (an opening that light does not reach).
 */
export function paintCrack(rng: Rng, scene: Scene, out: Raster, opts: { length: readonly [number, number]; darkness: readonly [number, number] }): FloatMap {
  const { width: w, height: h } = out;
  const size = Math.min(w, h);
  const length = rng.range(opts.length[0], opts.length[1]) * size;
  const walk = (x: number, y: number, heading: number, len: number): Array<[number, number]> => {
    const pts: Array<[number, number]> = [[x, y]];
    const step = 3;
    for (let d = 0; d < len; d += step) {
      heading += rng.range(-0.5, 0.5);
      x += Math.cos(heading) * step;
      y += Math.sin(heading) * step;
      pts.push([x, y]);
    }
    return pts;
  };
  const [sx, sy] = pointOnSupport(rng, scene, length * 0.3);
  const heading = rng.range(0, 2 * Math.PI);
  const main = walk(sx, sy, heading, length);
  const halfWidth = rng.range(0.6, 1.4);
  const alpha = strokeAlpha(w, h, main, halfWidth, (t) => 1 - 0.5 * t);
  const branches = rng.int(1, 2);
  for (let b = 0; b < branches; b++) {
    const from = main[rng.int(Math.floor(main.length * 0.2), Math.max(1, main.length - 2))]!;
    const branch = walk(from[0], from[1], heading + rng.range(0.5, 1.2) * (rng.chance(0.5) ? 1 : -1), length * rng.range(0.2, 0.45));
    const ba = strokeAlpha(w, h, branch, Math.max(0.55, halfWidth * 0.7), (t) => 1 - 0.6 * t);
    for (let i = 0; i < ba.data.length; i++) if ((ba.data[i] as number) > (alpha.data[i] as number)) alpha.data[i] = ba.data[i] as number;
  }
  multiplyInto(alpha, scene.support);
  const factor = 1 - rng.range(opts.darkness[0], opts.darkness[1]);
  blend(out, alpha, (_i, _c, old) => old * factor);
  return alpha;
}

/** 1 where the part covers the pixel (the image differs from what is behind it), fading to 0 on the background. */
export function presence(img: Raster, behind: Raster): FloatMap {
  const map = createMap(img.width, img.height);
  const ch = img.channels;
  for (let i = 0; i < map.data.length; i++) {
    let d = 0;
    for (let c = 0; c < ch; c++) d = Math.max(d, Math.abs((img.data[i * ch + c] as number) - (behind.data[i * ch + c] as number)));
    map.data[i] = clamp01(d / 0.02);
  }
  return map;
}
