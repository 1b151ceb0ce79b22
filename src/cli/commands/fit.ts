import { homedir } from "node:os";
import { join } from "node:path";
import type { CliCommand } from "../main.js";
import { executionProviderFlag, intFlag, parseFlags, requireFlag } from "../args.js";
import { loadModelConfig } from "../../model/model-config.js";
import { fitModel } from "../../pipeline/fit.js";
import { interruptSignal } from "../../util/progress.js";

/** Generated backbones are cached here (not in the repo): $LAFITED_CACHE_DIR, else ~/.cache/lafited. */
export function defaultCacheDir(): string {
  return process.env.LAFITED_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "lafited");
}

export const command: CliCommand = {
  summary: "Fit ONE unified model on every class's train/good images of an MVTec-layout data set.",
  usage: `lafite fit --data DIR --out BUNDLE [--config FILE] [--class NAME]... [--force] [--no-tune] [--cache DIR] [--threads N] [--execution-provider cpu|cuda]
  --data DIR      data set root (<class>/train/good/*)
  --out BUNDLE    bundle folder to write (refused if it exists and is not empty, unless --force)
  --config FILE   model config YAML (see config/model.example.yaml); defaults otherwise
  --class NAME    fit only these classes (repeatable)
  --force         replace an existing bundle atomically
  --no-tune       keep the configured τ, Δt, K and detail-bank weight (scoring.detail.weight) (no pseudo-validation sweep; thresholds are still calibrated)
  --cache DIR     where generated backbones are cached (default ${defaultCacheDir()})
  --execution-provider cpu|cuda  for the backbone and scoring (default cpu; falls back to cpu, saying why);
                  diffusion training follows diffusion.executionProvider, else this`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      data: { type: "string" },
      out: { type: "string" },
      config: { type: "string" },
      class: { type: "string", multiple: true },
      force: { type: "boolean" },
      "no-tune": { type: "boolean" },
      cache: { type: "string" },
      threads: { type: "string" },
      "execution-provider": { type: "string" },
    });
    const ep = executionProviderFlag(values["execution-provider"]);
    const config = await loadModelConfig(values.config);
    const { signal, dispose } = interruptSignal();
    try {
      await fitModel({
        data: requireFlag(values.data, "data"),
        out: requireFlag(values.out, "out"),
        config,
        cacheDir: values.cache ?? defaultCacheDir(),
        ...(values.class ? { classes: values.class } : {}),
        force: values.force ?? false,
        tune: !(values["no-tune"] ?? false),
        signal,
        ...(values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {}),
        ...(ep ? { executionProvider: ep } : {}),
      });
    } finally {
      dispose();
    }
    return 0;
  },
};
