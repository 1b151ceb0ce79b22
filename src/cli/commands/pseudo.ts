/**
 * `lafite pseudo`: writes a pseudo-validation set (paper 3.4) from a data
 * set's normal training images, in the MVTec AD layout that `lafite eval`
 * reads, so people can look at what the tuner scores.
 */
import { intFlag, parseFlags, requireFlag, shareFlag } from "../args.js";
import type { CliCommand } from "../main.js";
import { MASK_FAMILIES } from "../../image/pseudo/shapes.js";
import { PSEUDO_FILE, writePseudoSet } from "../../dataset/pseudo-set.js";
import { MAX_PER_CLASS } from "../../image/pseudo/samples.js";
import { holdoutClasses } from "../../image/pseudo/holdout.js";
import { readBundle } from "../../model/bundle.js";
import { parseModelConfig } from "../../model/model-config.js";
import { invalidInput } from "../../util/errors.js";
import { interruptSignal, stderrSink } from "../../util/progress.js";

/** The model config's tuning defaults (anomalies per class, logical, shade and warp shares), so `lafite pseudo` writes the kind of set fit tunes on. */
const TUNING_DEFAULTS = parseModelConfig({}).tuning;
export const DEFAULT_PER_CLASS = TUNING_DEFAULTS.perClass;

const FLAGS = {
  data: { type: "string" },
  out: { type: "string" },
  seed: { type: "string" },
  "per-class": { type: "string" },
  "cross-class": { type: "boolean" },
  seamless: { type: "string" },
  logical: { type: "string" },
  shade: { type: "string" },
  warp: { type: "string" },
  holdout: { type: "string" },
  force: { type: "boolean" },
} as const;

export const command: CliCommand = {
  summary: "Write a pseudo-validation set: normal images plus anomalies pasted from other normal images, with masks.",
  usage: [
    "usage: lafite pseudo --data DIR --out DIR [--seed S] [--per-class N] [--cross-class] [--seamless S] [--logical L] [--shade S] [--warp W] [--holdout BUNDLE] [--force]",
    "  --data DIR       data set in MVTec AD layout; each class's train/good images are the normals",
    "  --out DIR        output root (created if missing; must be empty or a previous pseudo output)",
    "  --seed S         integer seed, 0..4294967295 (default 0); the same seed gives byte-identical files",
    `  --per-class N    synthesized anomalies per class, 0..${MAX_PER_CLASS} (default ${DEFAULT_PER_CLASS})`,
    "  --cross-class    take fragments from any class's images, not only the target's class",
    "  --seamless S     share of anomalies blended in by seamless cloning (no cut edge) instead of pasted, 0..1 (default 0)",
    `  --logical L      share of anomalies made logical where a frame has parts: a part removed, or added on a plain place, blended in, 0..1 (default ${TUNING_DEFAULTS.logical}, as tuning.logical)`,
    `  --shade S        share of the others shaded in place: the frame's own pixels under a mask re-lit, darker or brighter (a stain, pit or scratch), 0..1 (default ${TUNING_DEFAULTS.shade}, as tuning.shade)`,
    `  --warp W         share of those left warped in place: the frame's own pixels moved near an edge (a dent, chip or turned stretch of rim), 0..1 (default ${TUNING_DEFAULTS.warp}, as tuning.warp)`,
    "  --holdout BUNDLE use only the training images BUNDLE held out of its memory bank (fair for 'lafite eval' of it)",
    "  --force          write into a non-empty folder that is not a previous pseudo output",
    `writes <out>/<class>/test/good/*.png, <class>/test/pseudo/*.png, <class>/ground_truth/pseudo/*_mask.png and ${PSEUDO_FILE}`,
    `mask families: ${MASK_FAMILIES.join(", ")} (1-3 per anomaly, rotated, 0.1-8 % of the image)`,
  ].join("\n"),
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS);
    const data = requireFlag(values.data, "data");
    const out = requireFlag(values.out, "out");
    const seed = intFlag(values.seed, "seed", 0);
    if (seed < 0 || seed > 0xffffffff) throw invalidInput(`--seed must be an integer from 0 to 4294967295, got ${seed}`);
    const perClass = intFlag(values["per-class"], "per-class", DEFAULT_PER_CLASS);
    if (perClass < 0 || perClass > MAX_PER_CLASS) throw invalidInput(`--per-class must be an integer from 0 to ${MAX_PER_CLASS}, got ${perClass}`);
    const seamless = shareFlag(values.seamless, "seamless", 0);
    const logical = shareFlag(values.logical, "logical", TUNING_DEFAULTS.logical);
    const shade = shareFlag(values.shade, "shade", TUNING_DEFAULTS.shade);
    const warp = shareFlag(values.warp, "warp", TUNING_DEFAULTS.warp);
    const holdout = values.holdout === undefined ? undefined : holdoutClasses((await readBundle(values.holdout)).manifest.provenance.holdoutFiles, data);
    const interrupt = interruptSignal();
    try {
      const record = await writePseudoSet({
        data,
        ...(holdout ? { classes: holdout } : {}),
        out,
        seed,
        perClass,
        crossClass: values["cross-class"] ?? false,
        ...(seamless > 0 ? { anomaly: { seamless } } : {}),
        ...(logical > 0 ? { logical } : {}),
        ...(shade > 0 ? { shade } : {}),
        ...(warp > 0 ? { warp } : {}),
        force: values.force ?? false,
        signal: interrupt.signal,
        progressSink: stderrSink,
      });
      const good = record.classes.reduce((s, c) => s + c.good, 0);
      const self = record.samples.filter((s) => s.selfPaste).length;
      process.stdout.write(
        `wrote ${record.samples.length} pseudo anomalies and ${good} good images for ${record.classes.length} classes to ${out}` +
          (self > 0 ? ` (${self} pasted from their own image: classes with a single normal image)` : "") +
          (seamless > 0 ? `; ${record.samples.filter((s) => s.blend === "seamless" && !s.logical).length} blended seamlessly` : "") +
          (logical > 0 ? `; ${record.samples.filter((s) => s.logical).length} logical (${record.samples.filter((s) => s.logical?.kind === "removed").length} parts removed, ${record.samples.filter((s) => s.logical?.kind === "added").length} added)` : "") +
          (shade > 0 ? `; ${record.samples.filter((s) => s.shade).length} shaded in place` : "") +
          (warp > 0 ? `; ${record.samples.filter((s) => s.warp).length} warped in place` : "") +
          "\n",
      );
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
};
