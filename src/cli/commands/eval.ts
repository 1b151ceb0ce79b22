import { writeFile } from "node:fs/promises";
import type { CliCommand } from "../main.js";
import { intFlag, parseFlags, requireFlag } from "../args.js";
import { loadDetector } from "../../pipeline/load.js";
import { evaluate, formatTable, type ImageScore } from "../../eval/evaluate.js";
import { interruptSignal } from "../../util/progress.js";
import { invalidInput } from "../../util/errors.js";
import type { ScoringMode } from "../../pipeline/types.js";

const MODES: readonly ScoringMode[] = ["knn", "lafite", "no-edit"];

export const command: CliCommand = {
  summary: "Evaluate a bundle on an MVTec-layout data set: per-class image/pixel AUROC and AP, pixel AUPRO, and their mean.",
  usage: `lafite eval --bundle BUNDLE --data DIR [--json FILE] [--scores FILE] [--mode knn|lafite|no-edit] [--heatmaps DIR] [--class NAME]...
  --json FILE     also write {"mode", "classes": {name: {image_auroc, pixel_auroc, image_ap, pixel_ap, pixel_aupro}}, "mean": {...}} (values 0–1, null where undefined;
                  pixel_aupro: area under the per-region-overlap curve up to 30% FPR, divided by 0.3, regions 8-connected, as MVTec AD)
  --mode M        score with this mode instead of the bundle's own
  --scores FILE   write one JSON line per test image: path, class, defect, anomalous, score, threshold, verdict
  --heatmaps DIR  write heatmap overlay PNGs as DIR/<class>/<defect>/<image>.png
  --tau N --delta-t N --eta X --k N   override the bundle's diffusion/editing hyperparameters (sweeps)`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      bundle: { type: "string" },
      data: { type: "string" },
      json: { type: "string" },
      mode: { type: "string" },
      heatmaps: { type: "string" },
      scores: { type: "string" },
      class: { type: "string", multiple: true },
      threads: { type: "string" },
      tau: { type: "string" },
      "delta-t": { type: "string" },
      eta: { type: "string" },
      k: { type: "string" },
    });
    const overrides = {
      ...(values.tau !== undefined ? { tau: intFlag(values.tau, "tau", 0) } : {}),
      ...(values["delta-t"] !== undefined ? { deltaT: intFlag(values["delta-t"], "delta-t", 0) } : {}),
      ...(values.k !== undefined ? { k: intFlag(values.k, "k", 0) } : {}),
      ...(values.eta !== undefined ? { eta: etaFlag(values.eta) } : {}),
    };
    const mode = values.mode as ScoringMode | undefined;
    if (mode !== undefined && !MODES.includes(mode)) throw invalidInput(`--mode must be one of ${MODES.join(", ")}, got '${mode}'`);
    const detector = await loadDetector(requireFlag(values.bundle, "bundle"), {
      ...(mode ? { mode } : {}),
      overrides,
      ...(values.threads !== undefined ? { intraOpThreads: intFlag(values.threads, "threads", 0) } : {}),
    });
    const { signal, dispose } = interruptSignal();
    const perImage: ImageScore[] = [];
    try {
      const report = await evaluate(detector, {
        ...(values.scores ? { onImage: (s: ImageScore) => perImage.push(s) } : {}),
        data: requireFlag(values.data, "data"),
        ...(values.class ? { classes: values.class } : {}),
        ...(values.heatmaps ? { heatmapsDir: values.heatmaps } : {}),
        signal,
      });
      process.stdout.write(`${formatTable(report)}\n`);
      if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
      if (values.scores) await writeFile(values.scores, perImage.map((s) => JSON.stringify(s)).join("\n") + "\n");
    } finally {
      dispose();
      await detector.close();
    }
    return 0;
  },
};

function etaFlag(value: string): number {
  const eta = Number(value);
  if (!(eta >= 0 && eta <= 1)) throw invalidInput(`--eta must be a number from 0 to 1, got '${value}'`);
  return eta;
}
