/**
 * One image of the realistic suite from its seed alone. The defect's mask is
 * its painted alpha ≥ 0.5: the geometric truth, exact to the pixel even
 * where a low-contrast defect hides in the camera noise.
 */
import { expose, randomCamera } from "../camera.js";
import type { Image8 } from "../raster.js";
import { deriveSeed, seededRng } from "../rng.js";
import type { SampleId } from "../sample.js";
import { LafiteError, ErrorCode } from "../../../util/errors.js";
import type { RealisticClass, Textures } from "./types.js";

const MAX_ATTEMPTS = 12;

export interface RealisticSample {
  readonly image: Image8;
  readonly clean?: Image8;
  readonly mask?: Image8;
}

export function realisticSampleSeed(seed: number, cls: RealisticClass, id: SampleId): number {
  return deriveSeed(seed, "realistic", cls.name, id.split, id.label, id.index);
}

export function renderRealisticSample(seed: number, cls: RealisticClass, id: SampleId, tex: Textures): RealisticSample {
  const rng = seededRng(realisticSampleSeed(seed, cls, id));
  const [width, height] = cls.size(rng);
  const scene = cls.render(rng, width, height, tex);
  if (scene.image.channels !== cls.channels) {
    throw new LafiteError(ErrorCode.INTERNAL, `renderer for ${cls.name} drew ${scene.image.channels} channels, class declares ${cls.channels}`);
  }
  const camera = randomCamera(rng, width, height, cls.channels, cls.camera);
  const clean = expose(scene.image, camera);
  if (id.label === "good") return { image: clean };
  if (!cls.defects.includes(id.label)) throw new LafiteError(ErrorCode.INTERNAL, `class ${cls.name} has no defect type '${id.label}'`);
  const area = width * height;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const painted = cls.paint(id.label, rng, scene);
    const mask = new Uint8Array(area);
    let marked = 0;
    for (let i = 0; i < area; i++) {
      if (painted.alpha.data[i]! >= 0.5) {
        mask[i] = 255;
        marked++;
      }
    }
    if (marked > 0 && marked / area <= cls.maxDefectArea) {
      return { image: expose(painted.image, camera), clean, mask: { width, height, channels: 1, data: mask } };
    }
  }
  throw new LafiteError(ErrorCode.INTERNAL, `could not draw a ${id.label} on ${cls.name} (seed ${seed}, index ${id.index})`);
}
