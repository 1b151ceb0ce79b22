/**
 * `lafite synth`: writes the demo data set (MVTec AD layout) used to try the
 * pipeline end to end without real product images.
 */
import { choiceFlag, intFlag, parseFlags, requireFlag } from "../args.js";
import type { CliCommand } from "../main.js";
import { DEFAULT_COUNTS, PRODUCT_CLASSES, SYNTH_VARIANTS, synthesizeDataset } from "../../image/synth/index.js";
import { OPTIONAL_REALISTIC_CLASSES, REALISTIC_CLASSES, synthesizeRealistic } from "../../image/synth/realistic/index.js";
import { invalidInput } from "../../util/errors.js";
import { interruptSignal, stderrSink } from "../../util/progress.js";

const FLAGS = {
  out: { type: "string" },
  seed: { type: "string" },
  train: { type: "string" },
  test: { type: "string" },
  "test-defect": { type: "string" },
  force: { type: "boolean" },
  variant: { type: "string" },
  suite: { type: "string" },
  scale: { type: "string" },
  class: { type: "string", multiple: true },
} as const;

/** `demo` is the default data set; `realistic` the harder benchmark of real textures and factory weak spots. */
export const SYNTH_SUITES = ["demo", "realistic"] as const;

function scaleFlag(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!(n > 0 && n <= 4)) throw invalidInput(`--scale must be a number in (0, 4], got '${value}'`);
  return n;
}

export const command: CliCommand = {
  summary: "Write a synthetic MVTec-AD-layout data set of normal and defective product images.",
  usage: [
    "usage: lafite synth --out DIR [--seed S] [--train N] [--test N] [--test-defect N] [--variant normal|shifted] [--force]",
    "       lafite synth --suite realistic --out DIR [--seed S] [--scale F] [--class NAME]... [--force]",
    "  --suite S          demo (default) or realistic: real textures from the Debian package krita-data, and classes aimed at",
    "                     hard cases (1024-px hairlines, < 0.5 % and edge defects, non-square frames of many sizes, gray and",
    "                     colour, a missing/extra part, 25 against 700 training images)",
    "  --scale F          realistic only: fraction of the full suite's counts (default 1, about 1,600 train images; 0.05 for a quick run)",
    "  --class NAME       realistic only: make only these classes (repeatable; default: every class of the suite, not the optional ones)",
    "  --out DIR          data-set root (created if missing; must be empty or a previous synth output)",
    "  --seed S           integer seed, 0..4294967295 (default 0); the same seed gives byte-identical files",
    `  --train N          train/good images per class (default ${DEFAULT_COUNTS.trainPerClass})`,
    `  --test N           test/good images per class (default ${DEFAULT_COUNTS.testGoodPerClass})`,
    `  --test-defect N    test images per defect type per class (default ${DEFAULT_COUNTS.testPerDefect})`,
    "  --variant V        normal (default) or shifted: the same classes under new lighting, colour cast and material batch",
    "  --force            write into a non-empty folder that is not a previous synth output",
    `realistic classes: ${REALISTIC_CLASSES.map((c) => `${c.name} (${c.exercises})`).join("; ")}`,
    `optional realistic classes (made only when named with --class): ${OPTIONAL_REALISTIC_CLASSES.map((c) => `${c.name} (${c.exercises})`).join("; ")}`,
    `classes: ${PRODUCT_CLASSES.map((c) => `${c.name} (${c.width}x${c.height} ${c.channels === 1 ? "gray" : "RGB"}: ${c.defects.map((d) => d.name).join(", ")})`).join("; ")}`,
  ].join("\n"),
  async run(argv) {
    const { values } = parseFlags(argv, FLAGS);
    const out = requireFlag(values.out, "out");
    const suite = choiceFlag(values.suite ?? "demo", "suite", SYNTH_SUITES);
    if (suite === "realistic") {
      const classes = values.class;
      for (const flag of ["train", "test", "test-defect", "variant"] as const) {
        if (values[flag] !== undefined) throw invalidInput(`--${flag} applies to the demo suite only; use --scale with --suite realistic`);
      }
      const interrupt = interruptSignal();
      try {
        const manifest = await synthesizeRealistic({
          out,
          seed: intFlag(values.seed, "seed", 0),
          scale: scaleFlag(values.scale),
          force: values.force ?? false,
          ...(classes ? { classes } : {}),
          signal: interrupt.signal,
          onProgress: (e) => stderrSink(e.line),
        });
        process.stdout.write(`wrote ${manifest.totalImages} images (${manifest.totalMasks} with masks) for ${manifest.classes.length} realistic classes to ${out}\n`);
        return 0;
      } finally {
        interrupt.dispose();
      }
    }
    if (values.scale !== undefined) throw invalidInput("--scale applies to --suite realistic only");
    if (values.class !== undefined) throw invalidInput("--class applies to --suite realistic only");
    const variant = choiceFlag(values.variant ?? "normal", "variant", SYNTH_VARIANTS);
    const interrupt = interruptSignal();
    try {
      const manifest = await synthesizeDataset({
        out,
        seed: intFlag(values.seed, "seed", 0),
        trainPerClass: intFlag(values.train, "train", DEFAULT_COUNTS.trainPerClass),
        testGoodPerClass: intFlag(values.test, "test", DEFAULT_COUNTS.testGoodPerClass),
        testPerDefect: intFlag(values["test-defect"], "test-defect", DEFAULT_COUNTS.testPerDefect),
        force: values.force ?? false,
        variant,
        signal: interrupt.signal,
        onProgress: (e) => stderrSink(e.line),
      });
      process.stdout.write(
        `wrote ${manifest.totalImages} images (${manifest.totalMasks} with masks) for ${manifest.classes.length} classes to ${out}\n`,
      );
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
};
