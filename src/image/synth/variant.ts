/**
 * Data-set variants. `normal` is the demo data set as always. `shifted` is the
 * same product classes after a change on the line that is NOT a defect: a
 * dimmer, one-sided light, a warm colour cast, and a new material batch
 * (another yarn lot of the fabric with a stronger weave contrast, a coarser finish of the metal, yellow zinc
 * plating of the nuts). A model fitted on `normal` sees it as anomalous
 * everywhere (false alarms); accepting some shifted good frames as normal
 * should teach it otherwise (issue 9: drift, refresh, retrain). Defects are
 * painted on the shifted scene, so their masks stay exact.
 */
import type { Camera } from "./camera.js";
import type { ProductClass } from "./classes.js";
import type { Raster } from "./raster.js";
import type { Scene } from "./scene.js";

export const SYNTH_VARIANTS = ["normal", "shifted"] as const;
export type SynthVariant = (typeof SYNTH_VARIANTS)[number];

/** Lighting: overall gain, and an extra left-to-right fall-off (a lamp moved to one side). */
const SHIFT_GAIN = 0.8;
const SHIFT_SLOPE_X = 0.14;
/** Colour cast of the new light, per RGB channel (gray cameras see only its luminance, i.e. the gain). */
const SHIFT_CAST = [1.1, 1.0, 0.84] as const;

/** The material batch: a per-class change of the scene before the camera sees it. */
const BATCH: Record<string, (r: Raster) => void> = {
  // Another yarn lot: deeper shadows between threads, brighter crowns (weave contrast up), same dye.
  fabric: (r) => mapChannels(r, (v) => 0.42 + (v - 0.42) * 1.35),
  // A coarser finish: stronger streak contrast around the same mean brightness.
  brushed_metal: (r) => mapChannels(r, (v) => 0.5 + (v - 0.48) * 1.45),
  // Yellow zinc plating; the belt is dark, so the tint shows mostly on the part.
  hex_nut: (r) => mapChannels(r, (v, c) => v * ([1.1, 1.04, 0.8] as const)[c]!),
};

function mapChannels(r: Raster, f: (v: number, c: number) => number): void {
  const ch = r.channels;
  for (let i = 0; i < r.data.length; i++) r.data[i] = Math.max(0, f(r.data[i]!, i % ch));
}

/** The scene as the new batch looks (in place: the renderer's scene is private to one sample). */
export function shiftScene(cls: ProductClass, scene: Scene): Scene {
  const batch = BATCH[cls.name];
  if (batch) {
    batch(scene.image);
    if (scene.behind) batch(scene.behind);
  }
  return scene;
}

/** The same camera under the new light. */
export function shiftCamera(cam: Camera): Camera {
  const balance = cam.balance.length === 3 ? cam.balance.map((b, c) => b * SHIFT_CAST[c]!) : cam.balance;
  return { ...cam, gain: cam.gain * SHIFT_GAIN, slopeX: cam.slopeX + SHIFT_SLOPE_X, balance };
}
