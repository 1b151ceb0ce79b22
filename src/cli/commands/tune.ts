import type { CliCommand } from "../main.js";
import { choiceFlag, intFlag, parseFlags, requireFlag, shareFlag } from "../args.js";
import { tuneBundle } from "../../pipeline/tune/tune-bundle.js";
import { TAU_SWEEP_MODES } from "../../model/model-config.js";
import { interruptSignal } from "../../util/progress.js";
import { invalidInput } from "../../util/errors.js";

/** --warps: as tuning.warps, 0 to 1000. */
function warpsFlag(value: string): number {
  const n = intFlag(value, "warps", 0);
  if (n < 0 || n > 1000) throw invalidInput(`--warps must be an integer from 0 to 1000, got '${value}'`);
  return n;
}

export const command: CliCommand = {
  summary: "Choose τ, K and the threshold of a fitted bundle on a pseudo-validation set synthesized from its held-out normal images.",
  usage: `lafite tune --bundle BUNDLE --data DIR [--seed S] [--per-class N] [--seamless S] [--logical L] [--shade S] [--warp W] [--warps N] [--tau-mode M] [--threads N]
  --bundle BUNDLE  a fitted bundle; rewritten atomically as a new version
  --data DIR       the training data set it was fitted on (the bundle lists which images it held out)
  --seed S         seed of the synthesized set (default: the bundle config's tuning.seed)
  --per-class N    synthesized anomalies per class (default: tuning.perClass, 20)
  --seamless S     share of them blended in seamlessly, with no cut edge, 0..1
                   (default: tuning.seamless, 0)
  --logical L      share of them that are logical: a part of the image removed
                   or added within it, 0..1 (default: tuning.logical, 0.5)
  --shade S        share of the others shaded in place: the frame's own pixels
                   re-lit under a mask (a stain, pit or scratch), 0..1
                   (default: tuning.shade, 0)
  --warp W         share of those left warped in place: the frame's own pixels
                   moved near an edge (a dent, chip or turned stretch of rim),
                   0..1 (default: tuning.warp, 0)
  --warps N        warped edges per class, beside the set, that each class's
                   heatmap detail-bank weight is also chosen on: a held-out
                   normal's pixels moved near one of its edges; the image
                   score keeps the set's weight (default: tuning.warps, 20;
                   0: the set alone)
  --tau-mode M     the mode the τ sweep scores in: lafite (at the configured K)
                   or no-edit (editing off, as in the paper); default:
                   tuning.tauMode, lafite
Sweeps τ, then K with editing on (lafite) at the chosen τ; the τ grid, DDIM
steps per τ and K grid come from the bundle's tuning config. Keeps the
configured defaults if they score better. Then the detail and context
banks' weights, the size correction (each class's held-out normals' score
against their frames' long side) and the edge correction are chosen again.
The chosen values, the curves and the seed go into manifest.tuning;
thresholds follow the config's threshold.rule.`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      bundle: { type: "string" },
      data: { type: "string" },
      seed: { type: "string" },
      "per-class": { type: "string" },
      seamless: { type: "string" },
      logical: { type: "string" },
      shade: { type: "string" },
      warp: { type: "string" },
      warps: { type: "string" },
      "tau-mode": { type: "string" },
      threads: { type: "string" },
    });
    const { signal, dispose } = interruptSignal();
    try {
      await tuneBundle({
        bundle: requireFlag(values.bundle, "bundle"),
        data: requireFlag(values.data, "data"),
        ...(values.seed !== undefined ? { seed: intFlag(values.seed, "seed", 0) } : {}),
        ...(values["per-class"] !== undefined ? { perClass: intFlag(values["per-class"], "per-class", 20) } : {}),
        ...(values.seamless !== undefined ? { seamless: shareFlag(values.seamless, "seamless", 0) } : {}),
        ...(values.logical !== undefined ? { logical: shareFlag(values.logical, "logical", 0) } : {}),
        ...(values.shade !== undefined ? { shade: shareFlag(values.shade, "shade", 0) } : {}),
        ...(values.warp !== undefined ? { warp: shareFlag(values.warp, "warp", 0) } : {}),
        ...(values.warps !== undefined ? { warps: warpsFlag(values.warps) } : {}),
        ...(values["tau-mode"] !== undefined ? { tauMode: choiceFlag(values["tau-mode"], "tau-mode", TAU_SWEEP_MODES) } : {}),
        ...(values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {}),
        signal,
      });
    } finally {
      dispose();
    }
    return 0;
  },
};
