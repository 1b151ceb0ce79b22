/**
 * A shade anomaly: the target's own pixels under a mask re-lit in place,
 * darker or brighter and with more or less contrast: a stain, a hole, a
 * crack or a scratch drawn from the frame itself, with no fragment moved
 * and no foreign content.
 *
 * Why: on a stochastic texture (a cast surface, a weave) a fragment of
 * another normal frame pasted elsewhere looks like more of the same
 * texture, so pasted anomalies there are nearly invisible to any model
 * (the realistic suite's varied-size tiles: pseudo-validation image AUROC
 * 52, against 93–95 on their real blowholes, cracks and fraying), and
 * every per-class choice made on them is made on noise. Most real texture
 * defects change the surface's brightness or contrast locally (MVTec AD's
 * colour, glue, oil, liquid and gray-stroke, its holes, cracks and cuts),
 * which this draws. The re-lighting is the pasted fragment's, with a
 * stronger range: v' = mean + gain·(v − mean) + bias over the masked pixels.
 *
 * Measured (tuning.shade in model.example.yaml): at a share of 0.5 it lifts
 * the dyed cloth's pseudo-validation image AUROC by 8 (46 -> 54 and 63 -> 71
 * at two set seeds) and the textures' AUPRO, but leaves the tiles' image
 * AUROC where it was (53-58), and the tuning it feeds chose no better on
 * the test set, so the share is 0 by default.
 */
import type { RgbImage } from "../decode.js";
import type { Rng } from "../synth/rng.js";
import { DEFAULT_MASK_OPTIONS, type MaskOptions } from "./combine.js";
import { pasteFragment } from "./paste.js";
import { mostVisibleDraw, type Anomaly } from "./anomaly.js";

/** Contrast gain, drawn log-uniformly: from a flattened smear to a harsher grain. */
export const SHADE_GAIN = [0.6, 1.4] as const;
/** Brightness shift in 8-bit levels, drawn log-uniformly in magnitude, darker or brighter with equal chance: from a faint stain to a deep pit. */
export const SHADE_BIAS = [10, 50] as const;

export function synthesizeShadeAnomaly(rng: Rng, target: RgbImage, masks: MaskOptions = DEFAULT_MASK_OPTIONS): Anomaly {
  return mostVisibleDraw(rng, target, masks, "shade", (mask, box) => {
    const gain = Math.round(rng.logRange(SHADE_GAIN[0], SHADE_GAIN[1]) * 100) / 100;
    const bias = (rng.chance(0.5) ? -1 : 1) * Math.round(rng.logRange(SHADE_BIAS[0], SHADE_BIAS[1]));
    const paste = { dx: 0, dy: 0, transform: 0, gain, bias } as const;
    return { image: pasteFragment(target, target, mask, box, paste), paste, shade: true };
  });
}
