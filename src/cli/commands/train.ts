import type { CliCommand } from "../main.js";
import { executionProviderFlag, intFlag, parseFlags, requireFlag } from "../args.js";
import { trainBundle } from "../../lifecycle/train-bundle.js";
import { trainTileBundle } from "../../lifecycle/train-tiles.js";
import { interruptSignal } from "../../util/progress.js";
import { invalidInput } from "../../util/errors.js";

function numberFlag(value: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw invalidInput(`--${flag} must be ${what}, got '${value}'`);
  return n;
}

export const command: CliCommand = {
  summary: "Continue training a bundle's diffusion U-Net (on its data set's features, or its replay sample), for a budget; writes a new bundle version.",
  usage: `lafite train --bundle BUNDLE (--minutes M | --epochs E | --steps N)... [--out BUNDLE2] [--t-max T] [--ema D] [--min-snr G] [--lr X] [--data DIR [--tune] | --replay] [--tiles CLASS] [--threads N] [--execution-provider cpu|cuda]
  --bundle BUNDLE  a fitted bundle with a diffusion model
  --minutes M      wall-clock training budget (counted across interrupts and resumes)
  --epochs E       passes over the training maps
  --steps N        optimizer steps; with several budgets the first reached ends training
  --out BUNDLE2    write the new version here (default: replace BUNDLE atomically)
  --t-max T        train on t uniform in [1, T] (inference uses t <= tau); default the bundle config's diffusion.tMax, else 200
  --ema D          export an EMA of the weights with decay D; default the bundle config's diffusion.ema, else 0.999
  --min-snr G      weight the loss by min-SNR-γ (γ = G, e.g. 5); default the bundle config's diffusion.minSnr, else off
  --lr X           learning rate (default 0.2 x the preset's, constant: AdamW moments restart)
  --data DIR       the data set the bundle was fitted on (default: the one its manifest records, when it
                   is still there): train on all its training images (fit's held-out ones excepted; at
                   most diffusion.maxDataMB), and with --data calibrate thresholds on its
                   pseudo-validation set (as fit does)
  --replay         train on the bundle's replay sample (diffusion.replayMB: a few dozen maps, too few
                   for long runs) instead of the data set's images (thresholds still need its held-out ones)
  --tune           then re-tune tau, K and thresholds on that set (lafite tune; needs --data)
  --tiles CLASS    train the tile U-Net of CLASS, a class the bundle also scores in tiles (lafite info:
                   "also scored in tiles"), instead of the whole model's: on the class's training
                   images cut into the same tiles (or the tile model's replay sample with --replay);
                   its tile thresholds are calibrated again and its frame threshold and map units
                   measured again, as fit measures them; the whole model stays as it is. Checkpoints
                   go in .<out>.tiles-CLASS beside the output
  --execution-provider cpu|cuda  for training (default the bundle config's diffusion.executionProvider, else cpu; cuda falls back to cpu, saying why)
Progress (loss, samples/s, ETA of the budget) goes to stderr. Ctrl-C stops after
the current step with a checkpoint in .<out>.diffusion-checkpoint beside the
output; the same command resumes it. The new manifest records parentVersion,
the budget, steps and final loss (metrics.train), and tMax/ema/minSnr in its config.`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      bundle: { type: "string" },
      out: { type: "string" },
      minutes: { type: "string" },
      epochs: { type: "string" },
      steps: { type: "string" },
      "t-max": { type: "string" },
      ema: { type: "string" },
      "min-snr": { type: "string" },
      lr: { type: "string" },
      data: { type: "string" },
      tune: { type: "boolean" },
      replay: { type: "boolean" },
      tiles: { type: "string" },
      threads: { type: "string" },
      "execution-provider": { type: "string" },
    });
    const ep = executionProviderFlag(values["execution-provider"]);
    if (values.replay && values.data !== undefined) throw invalidInput("--replay and --data contradict each other: --data trains on the data set, --replay on the bundle's replay sample");
    const minutes = numberFlag(values.minutes, "minutes", (n) => n > 0, "a positive number");
    const epochs = values.epochs !== undefined ? intFlag(values.epochs, "epochs", 0) : undefined;
    const steps = values.steps !== undefined ? intFlag(values.steps, "steps", 0) : undefined;
    const tMax = values["t-max"] !== undefined ? intFlag(values["t-max"], "t-max", 0) : undefined;
    if (epochs !== undefined && epochs < 1) throw invalidInput(`--epochs must be at least 1, got ${epochs}`);
    if (steps !== undefined && steps < 1) throw invalidInput(`--steps must be at least 1, got ${steps}`);
    if (tMax !== undefined && (tMax < 1 || tMax > 1000)) throw invalidInput(`--t-max must be from 1 to 1000, got ${tMax}`);
    const ema = numberFlag(values.ema, "ema", (n) => n > 0 && n < 1, "a decay in (0, 1)");
    const minSnr = numberFlag(values["min-snr"], "min-snr", (n) => n > 0 && n <= 1000, "a positive γ up to 1000");
    const lr = numberFlag(values.lr, "lr", (n) => n > 0 && n <= 1, "a number in (0, 1]");
    const { signal, dispose } = interruptSignal();
    try {
      const options = {
        bundle: requireFlag(values.bundle, "bundle"),
        ...(values.out !== undefined ? { out: values.out } : {}),
        ...(minutes !== undefined ? { minutes } : {}),
        ...(epochs !== undefined ? { epochs } : {}),
        ...(steps !== undefined ? { steps } : {}),
        ...(tMax !== undefined ? { tMax } : {}),
        ...(ema !== undefined ? { ema } : {}),
        ...(minSnr !== undefined ? { minSnr } : {}),
        ...(lr !== undefined ? { lr } : {}),
        ...(values.data !== undefined ? { data: values.data } : {}),
        tune: values.tune ?? false,
        replay: values.replay ?? false,
        ...(ep ? { executionProvider: ep } : {}),
        ...(values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {}),
        signal,
      };
      await (values.tiles !== undefined ? trainTileBundle({ ...options, tiles: values.tiles }) : trainBundle(options));
    } finally {
      dispose();
    }
    return 0;
  },
};
