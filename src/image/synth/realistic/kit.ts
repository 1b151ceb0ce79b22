/**
 * The mixed-batch class: the assembly's tall 400 × 800 plate with eight
 * nuts of one material, steel on some frames and brass on others. The
 * anomaly is one nut (or two) of the other material: every part, and every
 * part at every place, is normal somewhere in the training set; only the
 * frame's consistency is broken, as on the real tall object whose logical
 * anomalies a patch cannot see alone (a valid component of the wrong
 * variant). The assembly class (a part missing or added) does not exercise
 * this: patch methods catch those from the neighbourhood. A first version
 * with steel on the left and brass on the right (a part in the wrong column)
 * was no harder: knn caught it at image AUROC 100. The mask covers each odd
 * part's footprint and the right part's it replaced.
 */
import { createMap, type FloatMap, type Raster } from "../raster.js";
import type { Scene } from "../scene.js";
import type { Painted, RealisticClass } from "./types.js";
import { COLUMNS, footprint, paste, PLATE_FRAME, plateScene, renderPart, renderPlate, ROWS, type Part } from "./assembly.js";

/** Brass: the steel nut's colour shifted to yellow. */
const BRASS = [1.12, 0.92, 0.5] as const;

interface KitParts {
  readonly plate: Raster;
  /** Per slot: the part of the frame's material, and the same place drawn in the other one. */
  readonly slots: ReadonlyArray<{ readonly right: Part; readonly wrong: Part }>;
}

const partsOf = new WeakMap<Scene, KitParts>();

/** The plate with each slot's part: the other material where `wrongAt(slot)`; the footprints of the parts changed there. */
function compose(parts: KitParts, wrongAt: (slot: number) => boolean): { image: Raster; foot: FloatMap } {
  const image: Raster = { ...parts.plate, data: new Float32Array(parts.plate.data) };
  const foot = createMap(image.width, image.height);
  parts.slots.forEach((slot, k) => {
    const wrong = wrongAt(k);
    const f = paste(image, wrong ? slot.wrong : slot.right);
    if (!wrong) return;
    // Both footprints: where the odd nut is, and where the right one no longer shows.
    const gone = footprint(image.width, image.height, slot.right);
    for (let i = 0; i < f.data.length; i++) foot.data[i] = Math.max(foot.data[i]!, f.data[i]!, gone.data[i]!);
  });
  return { image, foot };
}

export const kit: RealisticClass = {
  name: "kit",
  exercises: "logical anomalies of the mixed-batch kind (one part of the other material among eight that must match) on a tall 400x800 colour frame",
  ...PLATE_FRAME,
  train: 200,
  testGood: 20,
  testPerDefect: 12,
  defects: ["odd_part", "two_odd"],
  maxDefectArea: 0.04,
  render(rng, width, height, tex) {
    const plate = renderPlate(rng, width, height, tex);
    const brassFrame = rng.next() < 0.5;
    const slots = ROWS.flatMap((y) =>
      COLUMNS.map((x) => {
        const cx = x + rng.range(-3, 3);
        const cy = y + rng.range(-3, 3);
        const steel = renderPart(rng, cx, cy);
        const brass = renderPart(rng, cx, cy, BRASS);
        return brassFrame ? { right: brass, wrong: steel } : { right: steel, wrong: brass };
      }),
    );
    const parts: KitParts = { plate, slots };
    return plateScene(compose(parts, () => false).image, parts, partsOf);
  },
  paint(defect, rng, scene): Painted {
    const parts = partsOf.get(scene);
    if (!parts) throw new RangeError("kit scene was not rendered by the kit class");
    const n = parts.slots.length;
    const a = rng.int(0, n - 1);
    switch (defect) {
      case "odd_part": {
        const { image, foot } = compose(parts, (k) => k === a);
        return { image, alpha: foot };
      }
      case "two_odd": {
        const b = (a + rng.int(1, n - 1)) % n;
        const { image, foot } = compose(parts, (k) => k === a || k === b);
        return { image, alpha: foot };
      }
      default:
        throw new RangeError(`kit has no defect '${defect}'`);
    }
  },
};
