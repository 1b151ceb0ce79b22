/**
 * `npm run bench:budget`: detection quality against the diffusion model's
 * training budget, the curve behind the default `diffusion.samples`.
 * Extracts the suite's features once (realistic suite, or --data), builds the
 * default coreset once, then for each budget trains the U-Net from scratch
 * with the default config capped at that many samples, and scores the test
 * set in no-edit and lafite modes at each τ, next to edit-only and knn,
 * which do not depend on the budget. Prints mean per-class image and pixel
 * AUROC (pixel on the S×S map), training seconds, and each budget's time as
 * a ratio of the largest one's.
 *
 * With --from BUNDLE it draws the curve of long training instead: one run
 * that continues the bundle's U-Net exactly as `lafite train --data` does
 * (same training maps, fine-tuning schedule, t range and EMA), scored after
 * each cumulative budget in --samples, against the bundle's own coreset and
 * scoring rule. Scoring pauses the run and is not counted as training time.
 * The JSON is rewritten after every point, so an interrupted curve keeps
 * what it measured.
 *
 * Usage: npm run bench:budget -- [--data DIR | --scale F] [--samples 1000,2000,4000,8000]
 *          [--taus 20,50,100,200] [--config FILE] [--t-max T] [--ema D] [--min-snr G] [--threads N] [--json FILE]
 *        npm run bench:budget -- --from BUNDLE [--data DIR] --samples 8000,16000,...
 *          [--taus 20,50,100,200,400] [--lr X] [--t-max T] [--ema D] [--min-snr G] [--threads N] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadModelConfig, parseModelConfig } from "../src/model/model-config.js";
import { bytesToFloat32, readBundle } from "../src/model/bundle.js";
import { readUNetModel } from "../src/model/diffusion/index.js";
import { bundlePreset, fineTuneConfig } from "../src/lifecycle/jobs/fine-tune-unet.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { trainDiffusion } from "../src/model/diffusion/index.js";
import { diffusionConfigOf } from "../src/pipeline/fit.js";
import { openScorer, scorerSettingsOf, type ScorerParts, type ScorerSettings } from "../src/pipeline/open-scorer.js";
import type { ScoringMode } from "../src/model/types.js";
import { buildCoreset, extractSuiteFeatures, listFlag, scoreSuite, suiteData, type SuiteTest, type SweepScores } from "./support/suite-features.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    config: { type: "string" },
    samples: { type: "string" },
    taus: { type: "string" },
    threads: { type: "string" },
    json: { type: "string" },
    from: { type: "string" },
    lr: { type: "string" },
    "t-max": { type: "string" },
    ema: { type: "string" },
    "min-snr": { type: "string" },
  },
});
const list = (v: string | undefined, dflt: string) => listFlag(v, dflt).map(Number);
const log = (m: string) => process.stderr.write(`${m}\n`);
const quiet = () => {};
const threads = values.threads !== undefined ? Number(values.threads) : undefined;
const sess = sessionOptions("cpu", threads);
/** --t-max, --ema and --min-snr as diffusion config overrides, for both kinds of run. */
const trainingFlags = {
  ...(values["t-max"] !== undefined ? { tMax: Number(values["t-max"]) } : {}),
  ...(values.ema !== undefined ? { ema: Number(values.ema) } : {}),
  ...(values["min-snr"] !== undefined ? { minSnr: Number(values["min-snr"]) } : {}),
};

type Score = (mode: ScoringMode, parts: ScorerParts, tau: number) => Promise<SweepScores>;
type CurvePoint = { mode: ScoringMode; tau: number; scores: SweepScores };

/** Scores the test set with a freshly opened scorer of the given mode and τ (Δt = τ: one DDIM step). */
function suiteScorer(test: readonly SuiteTest[], settings: Omit<ScorerSettings, "tau" | "deltaT">): Score {
  return async (mode, parts, tau) => {
    const open = await openScorer(mode, parts, { ...settings, tau, deltaT: tau }, sess);
    try {
      return await scoreSuite(test, open.scorer);
    } finally {
      await open.release();
    }
  };
}

/** No-edit and lafite at every τ, for one trained model. */
async function tauPoints(score: Score, parts: ScorerParts, taus: readonly number[]): Promise<CurvePoint[]> {
  const points: CurvePoint[] = [];
  for (const tau of taus) for (const mode of ["no-edit", "lafite"] as const) points.push({ mode, tau, scores: await score(mode, parts, tau) });
  return points;
}

function pct(s: SweepScores): string {
  return `${(100 * s.imageAuroc).toFixed(1)}/${(100 * s.pixelAuroc).toFixed(1)}`;
}

const describe = (points: readonly CurvePoint[]) => points.map((p) => `${p.mode}@${p.tau} ${pct(p.scores)}`).join(", ");

/** The table: a title, the modes that need no training, then one line per model with its own leading columns. */
function printCurve(title: string, fixed: Record<"knn" | "edit-only", SweepScores>, taus: readonly number[], columns: string, rows: readonly { lead: string; points: readonly CurvePoint[] }[]): void {
  const f = (v: number) => (100 * v).toFixed(1).padStart(5);
  console.log(title);
  console.log(`knn ${f(fixed.knn.imageAuroc)} / ${f(fixed.knn.pixelAuroc)}    edit-only ${f(fixed["edit-only"].imageAuroc)} / ${f(fixed["edit-only"].pixelAuroc)}   (no training)`);
  console.log(`${columns}  ${taus.map((t) => `no-edit@${t}`.padEnd(14) + `lafite@${t}`.padEnd(14)).join("")}`);
  for (const r of rows) {
    const cells = taus.map((t) => (["no-edit", "lafite"] as const).map((mode) => {
      const p = r.points.find((x) => x.mode === mode && x.tau === t)!;
      return `${f(p.scores.imageAuroc)}/${f(p.scores.pixelAuroc)}`.padEnd(14);
    }).join("")).join("");
    console.log(`${r.lead}  ${cells}`);
  }
}

if (values.from !== undefined) {
  await longTrainingCurve(values.from);
  process.exit(0);
}
const config = await loadModelConfig(values.config);
if (config.diffusion.preset === "none") throw new Error("bench:budget needs a diffusion preset (the config has none)");
const budgets = list(values.samples, "1000,2000,4000,8000");
const taus = list(values.taus, "20,50,100,200");

const { data, cleanup } = await suiteData(values, "budget");
try {
  const suite = await extractSuiteFeatures(data, config, log, threads);
  const { c, h, w } = suite.bank[0]!;
  const { coreset, count } = await buildCoreset(suite, config);
  const score = suiteScorer(suite.test, { mapSize: suite.mapSize, sigma: config.scoring.sigma, pool: config.scoring.pool, k: config.memory.k, eta: config.scoring.eta });
  const fixed = { knn: await score("knn", { coreset, coresetSize: count, c }, 0), "edit-only": await score("edit-only", { coreset, coresetSize: count, c }, 0) };
  log(`bench:budget: ${suite.bank.length} bank images; knn ${pct(fixed.knn)}, edit-only ${pct(fixed["edit-only"])}`);

  interface Row { samples: number; seconds: number; finalLoss: number; points: CurvePoint[] }
  const rows: Row[] = [];
  for (const samples of budgets) {
    // Fit's own config, with the budget in samples as the only end.
    const cfg = { ...diffusionConfigOf(config, "cpu", threads), maxSamples: samples, epochs: 1_000_000, ...trainingFlags };
    const t0 = performance.now();
    const trained = await trainDiffusion(suite.bank.map((x) => x.data), { c, h, w }, cfg, { log: quiet });
    const seconds = (performance.now() - t0) / 1000;
    const points = await tauPoints(score, { coreset, coresetSize: count, c, unetOnnx: trained.unetOnnx }, taus);
    rows.push({ samples, seconds, finalLoss: trained.finalLoss, points });
    log(`bench:budget: ${samples} samples in ${seconds.toFixed(0)} s, loss ${trained.finalLoss.toFixed(4)}: ${describe(points)}`);
  }

  const longest = Math.max(...rows.map((r) => r.seconds));
  printCurve(
    `bench:budget — ${data}: ${suite.bank.length} bank images; image / pixel AUROC (pixel on the ${suite.mapSize}×${suite.mapSize} map)`,
    fixed,
    taus,
    "samples  train_s  ×longest  loss  ",
    rows.map((r) => ({ lead: `${String(r.samples).padStart(7)}  ${r.seconds.toFixed(0).padStart(7)}  ${(r.seconds / longest).toFixed(2).padStart(8)}  ${r.finalLoss.toFixed(3)}`, points: r.points })),
  );
  if (values.json) await writeFile(values.json, JSON.stringify({ data, bankImages: suite.bank.length, fixed, rows }, null, 2));
} finally {
  await cleanup();
}

/** --from: one continued run of the bundle's U-Net, scored at cumulative budgets (see the header). */
async function longTrainingCurve(from: string): Promise<void> {
  const loaded = await readBundle(from);
  const m = loaded.manifest;
  if (!m.scoring.denoiserFile) throw new Error(`${from} has no diffusion model`);
  const data = values.data ?? m.provenance.dataset;
  const config = parseModelConfig(m.config, `bundle ${from} config`);
  const taus = list(values.taus, "20,50,100,200,400");
  const budgets = list(values.samples, "8000,16000,32000,64000");
  const suite = await extractSuiteFeatures(data, config, log, threads);
  const drift = Math.max(...Array.from(suite.stats.mean, (v, i) => Math.abs(v - m.features.mean[i]!)));
  if (drift > 1e-3) log(`bench:budget: warning: ${data} does not reproduce the bundle's feature means (max difference ${drift.toExponential(2)}); is it the data set the bundle was fitted on?`);
  const { c, h, w } = suite.bank[0]!;
  const bank = { coreset: bytesToFloat32(loaded.file(m.memory.vectorsFile)), coresetSize: m.memory.coresetSize, c };
  const settings = scorerSettingsOf(m);
  const score = suiteScorer(suite.test, settings);
  const unet = readUNetModel(loaded.file(m.scoring.denoiserFile));
  const steps = Math.ceil(Math.max(...budgets) / bundlePreset(m).batchSize);
  const cfg = fineTuneConfig(m, unet, {
    steps,
    ...(values.lr !== undefined ? { lr: Number(values.lr) } : {}),
    ...trainingFlags,
    ...(threads ? { intraOpThreads: threads } : {}),
  });
  const fixed = { knn: await score("knn", bank, 0), "edit-only": await score("edit-only", bank, 0) };
  log(`bench:budget --from ${from}: ${suite.bank.length} training maps; knn ${pct(fixed.knn)}, edit-only ${pct(fixed["edit-only"])}; lr ${cfg.lr}, t in [1, ${cfg.tMax ?? cfg.T}], EMA ${cfg.ema ?? "off"}, min-SNR γ ${cfg.minSnr ?? "off"}, batch ${cfg.batchSize}`);

  interface Point { samples: number; trainSeconds: number; loss: number | null; points: CurvePoint[] }
  const rows: Point[] = [];
  const save = async () => {
    if (values.json) await writeFile(values.json, JSON.stringify({ from, parentVersion: m.version, data, trainingMaps: suite.bank.length, lr: cfg.lr, tMax: cfg.tMax ?? cfg.T, ema: cfg.ema ?? null, minSnr: cfg.minSnr ?? null, fixed, rows }, null, 2));
  };
  const scoreModel = async (samples: number, trainSeconds: number, loss: number | null, unetOnnx: Uint8Array) => {
    const points = await tauPoints(score, { ...bank, unetOnnx }, taus);
    rows.push({ samples, trainSeconds, loss, points });
    log(`bench:budget: +${samples} samples, ${(trainSeconds / 60).toFixed(1)} min of training${loss !== null ? `, loss ${loss.toFixed(4)}` : ""}: ${describe(points)}`);
    await save();
  };
  await scoreModel(0, 0, null, loaded.file(m.scoring.denoiserFile));
  let trained = 0;
  let since = performance.now();
  await trainDiffusion(suite.bank.map((x) => x.data), { c, h, w }, cfg, {
    initialWeights: unet.weights,
    log: quiet,
    snapshots: {
      atSteps: budgets.map((b) => Math.ceil(b / cfg.batchSize)),
      take: async (step, unetOnnx, loss) => {
        trained += (performance.now() - since) / 1000;
        await scoreModel(step * cfg.batchSize, trained, loss, unetOnnx);
        since = performance.now();
      },
    },
  });

  printCurve(
    `bench:budget --from ${from} — ${data}: ${suite.bank.length} training maps; image / pixel AUROC (pixel on the ${suite.mapSize}×${suite.mapSize} map), ${settings.imageScore ?? "pool"} image score`,
    fixed,
    taus,
    "+samples  train_min  loss  ",
    rows.map((r) => ({ lead: `${String(r.samples).padStart(8)}  ${(r.trainSeconds / 60).toFixed(1).padStart(9)}  ${r.loss === null ? "  –  " : r.loss.toFixed(3)}`, points: r.points })),
  );
}
