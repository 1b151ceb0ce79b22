/** Shared set-up of the lifecycle job tests: tiny demo data, a fitted bundle, accepted frames, drift measures. */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeDataset, type SynthVariant } from "../../../src/image/synth/index.js";
import { sha256 } from "../../../src/model/bundle.js";
import { scanDataset } from "../../../src/dataset/mvtec-layout.js";
import { fitModel } from "../../../src/pipeline/fit.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { evaluate } from "../../../src/eval/evaluate.js";
import { parseModelConfig } from "../../../src/model/model-config.js";
import { silentLogger } from "../../../src/util/log.js";
import type { AcceptedFrame, JobContext } from "../../../src/lifecycle/jobs/types.js";
import type { ScoringMode } from "../../../src/model/types.js";

export const quiet = (): void => {};

export async function makeData(out: string, seed: number, variant: SynthVariant, counts: { train: number; testGood: number; testDefect: number }, classes?: string[]): Promise<void> {
  await synthesizeDataset({ out, seed, variant, trainPerClass: counts.train, testGoodPerClass: counts.testGood, testPerDefect: counts.testDefect, ...(classes ? { classes } : {}) });
}

export async function fitBundle(data: string, out: string, cacheDir: string, config: unknown): Promise<void> {
  await fitModel({ data, out, config: parseModelConfig(config), cacheDir, log: quiet, progressSink: quiet });
}

/**
 * In a new temporary directory (`prefix`): a knn bundle (no diffusion) fitted on 8 normal hex_nut frames, and 6
 * shifted hex_nut frames to accept. The caller removes `dir`.
 */
export async function knnBundleAndShiftedFrames(prefix: string): Promise<{ dir: string; base: string; shifted: string }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const normal = join(dir, "normal");
  const shifted = join(dir, "shifted");
  const base = join(dir, "base");
  await makeData(normal, 1, "normal", { train: 8, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  await makeData(shifted, 2, "shifted", { train: 6, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  await fitBundle(normal, base, join(dir, "cache"), { diffusion: { preset: "none" }, scoring: { mode: "knn" } });
  return { dir, base, shifted };
}

/** The train/good frames of a data set as accepted frames (content-hashed like the ledger does), class-tagged. */
export async function acceptedFrom(data: string, limit: number): Promise<AcceptedFrame[]> {
  const classes = await scanDataset(data);
  const all: AcceptedFrame[] = [];
  // Round-robin over classes so a small limit still covers each class.
  for (let i = 0; all.length < limit; i++) {
    let any = false;
    for (const cls of classes) {
      const p = cls.train[i];
      if (!p || all.length >= limit) continue;
      any = true;
      all.push({ path: p, sha256: sha256(await readFile(p)), classTag: cls.name });
    }
    if (!any) break;
  }
  return all;
}

export function jobContext(
  kind: JobContext["kind"],
  activeBundleDir: string,
  outDir: string,
  accepted: AcceptedFrame[],
  options?: Record<string, unknown>,
  signal = new AbortController().signal,
): JobContext & { calls: number; reports: { done: number; total: number; message: string }[] } {
  const ctx = {
    kind,
    activeBundleDir,
    outDir,
    accepted,
    signal,
    calls: 0,
    /** Every progress report, in order. */
    reports: [] as { done: number; total: number; message: string }[],
    progress: (done: number, total: number, message: string) => {
      ctx.calls++;
      ctx.reports.push({ done, total, message });
    },
    log: silentLogger(),
    ...(options ? { options } : {}),
  };
  return ctx;
}

export interface DriftMeasure {
  /** Share of the data set's test/good frames scored above the bundle's threshold. */
  readonly falseAlarmRate: number;
  /** Mean over classes of the image AUROC, good vs defective test frames. */
  readonly auroc: number;
  /** Share of the test/good frames judged like none of the model's classes (the look gate). */
  readonly unlikeRate: number;
}

export async function measure(bundle: string, data: string, mode?: ScoringMode): Promise<DriftMeasure> {
  const detector = await loadDetector(bundle, mode ? { mode } : {});
  try {
    let good = 0;
    let alarms = 0;
    let unlike = 0;
    const report = await evaluate(detector, {
      data,
      log: quiet,
      progressSink: quiet,
      onImage: (s) => {
        if (!s.anomalous) {
          good++;
          if (s.verdict === "NG") alarms++;
          if (s.unlike) unlike++;
        }
      },
    });
    return { falseAlarmRate: alarms / good, auroc: report.mean.image_auroc!, unlikeRate: unlike / good };
  } finally {
    await detector.close();
  }
}

export const join2 = join;
