/**
 * One image of the data set, from its seed alone: the product, the camera
 * and (for anomalous images) the defect and its ground-truth mask.
 */
import { expose, randomCamera } from "./camera.js";
import type { ProductClass } from "./classes.js";
import { paintDefect, type DefectKind } from "./defects.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import type { Image8 } from "./raster.js";
import { deriveSeed, seededRng } from "./rng.js";
import { shiftCamera, shiftScene, type SynthVariant } from "./variant.js";

/**
 * A pixel is marked anomalous when some channel changed by at least this many
 * 8-bit levels: about what one notices on screen, and well above the soft
 * fringe of a blended defect.
 */
export const MASK_THRESHOLD = 12;

/** Redraw a defect that came out too faint or too small to see, or too large to be a defect. */
const MIN_MARKED: Record<DefectKind, number> = { scratch: 0.0008, hole: 0.006, contamination: 0.006, color: 0.006 };
const MAX_MARKED = 0.12;
const MAX_ATTEMPTS = 12;

export interface SampleId {
  readonly split: "train" | "test";
  /** "good" or a defect folder name. */
  readonly label: string;
  readonly index: number;
}

export interface RenderedSample {
  readonly image: Image8;
  /** The same scene and camera without the defect (anomalous samples only). */
  readonly clean?: Image8;
  /** 0 background, 255 anomaly (anomalous samples only). */
  readonly mask?: Image8;
}

export function sampleSeed(seed: number, cls: ProductClass, id: SampleId, variant: SynthVariant = "normal"): number {
  // The normal variant keeps its original derivation (and bytes); others draw their own parts.
  return variant === "normal" ? deriveSeed(seed, cls.name, id.split, id.label, id.index) : deriveSeed(seed, variant, cls.name, id.split, id.label, id.index);
}

/** Pixels whose 8-bit value moved by at least `threshold` in some channel. */
export function diffMask(a: Image8, b: Image8, threshold = MASK_THRESHOLD): Image8 {
  const n = a.width * a.height;
  const ch = a.channels;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let max = 0;
    for (let c = 0; c < ch; c++) max = Math.max(max, Math.abs((a.data[i * ch + c] as number) - (b.data[i * ch + c] as number)));
    out[i] = max >= threshold ? 255 : 0;
  }
  return { width: a.width, height: a.height, channels: 1, data: out };
}

export function renderSample(seed: number, cls: ProductClass, id: SampleId, variant: SynthVariant = "normal"): RenderedSample {
  const rng = seededRng(sampleSeed(seed, cls, id, variant));
  const drawn = cls.render(rng, cls.width, cls.height);
  const scene = variant === "shifted" ? shiftScene(cls, drawn) : drawn;
  if (scene.image.channels !== cls.channels) {
    throw new LafiteError(ErrorCode.INTERNAL, `renderer for ${cls.name} drew ${scene.image.channels} channels, class declares ${cls.channels}`);
  }
  const normalCamera = randomCamera(rng, cls.width, cls.height, cls.channels, cls.camera);
  const camera = variant === "shifted" ? shiftCamera(normalCamera) : normalCamera;
  const clean = expose(scene.image, camera);
  if (id.label === "good") return { image: clean };
  const defect = cls.defects.find((d) => d.name === id.label);
  if (!defect) throw new LafiteError(ErrorCode.INTERNAL, `class ${cls.name} has no defect type '${id.label}'`);
  const area = cls.width * cls.height;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const painted = paintDefect(defect.kind, rng, scene);
    const image = expose(painted.image, camera);
    const mask = diffMask(clean, image);
    let marked = 0;
    for (const v of mask.data) if (v !== 0) marked++;
    const fraction = marked / area;
    if (fraction >= MIN_MARKED[defect.kind] && fraction <= MAX_MARKED) return { image, clean, mask };
  }
  throw new LafiteError(ErrorCode.INTERNAL, `could not draw a visible ${defect.name} on ${cls.name} (seed ${seed}, index ${id.index})`);
}
