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
 * Usage: npm run bench:budget -- [--data DIR | --scale F] [--samples 1000,2000,4000,8000]
 *          [--taus 20,50,100,200] [--config FILE] [--threads N] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadModelConfig } from "../src/model/model-config.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { trainDiffusion } from "../src/model/diffusion/index.js";
import { diffusionConfigOf } from "../src/pipeline/fit.js";
import { openScorer, type ScorerParts } from "../src/pipeline/open-scorer.js";
import type { ScoringMode } from "../src/model/types.js";
import { buildCoreset, extractSuiteFeatures, listFlag, scoreSuite, suiteData, type SweepScores } from "./support/suite-features.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    config: { type: "string" },
    samples: { type: "string" },
    taus: { type: "string" },
    threads: { type: "string" },
    json: { type: "string" },
  },
});
const list = (v: string | undefined, dflt: string) => listFlag(v, dflt).map(Number);
const log = (m: string) => process.stderr.write(`${m}\n`);
const quiet = () => {};
const config = await loadModelConfig(values.config);
if (config.diffusion.preset === "none") throw new Error("bench:budget needs a diffusion preset (the config has none)");
const budgets = list(values.samples, "1000,2000,4000,8000");
const taus = list(values.taus, "20,50,100,200");
const threads = values.threads !== undefined ? Number(values.threads) : undefined;
const sess = sessionOptions("cpu", threads);

const { data, cleanup } = await suiteData(values, "budget");
try {
  const suite = await extractSuiteFeatures(data, config, log, threads);
  const { c, h, w } = suite.bank[0]!;
  const { coreset, count } = await buildCoreset(suite, config);
  const base = { mapSize: suite.mapSize, sigma: config.scoring.sigma, pool: config.scoring.pool, k: config.memory.k, eta: config.scoring.eta };
  const score = async (mode: ScoringMode, parts: ScorerParts, tau: number): Promise<SweepScores> => {
    const open = await openScorer(mode, parts, { ...base, tau, deltaT: tau }, sess);
    try {
      return await scoreSuite(suite.test, open.scorer);
    } finally {
      await open.release();
    }
  };
  const fixed = { knn: await score("knn", { coreset, coresetSize: count, c }, 0), "edit-only": await score("edit-only", { coreset, coresetSize: count, c }, 0) };
  log(`bench:budget: ${suite.bank.length} bank images; knn ${(100 * fixed.knn.imageAuroc).toFixed(1)}/${(100 * fixed.knn.pixelAuroc).toFixed(1)}, edit-only ${(100 * fixed["edit-only"].imageAuroc).toFixed(1)}/${(100 * fixed["edit-only"].pixelAuroc).toFixed(1)}`);

  interface Row { samples: number; seconds: number; finalLoss: number; points: { mode: ScoringMode; tau: number; scores: SweepScores }[] }
  const rows: Row[] = [];
  for (const samples of budgets) {
    // Fit's own config, with the budget in samples as the only end.
    const cfg = { ...diffusionConfigOf(config, "cpu", threads), maxSamples: samples, epochs: 1_000_000 };
    const t0 = performance.now();
    const trained = await trainDiffusion(suite.bank.map((x) => x.data), { c, h, w }, cfg, { log: quiet });
    const seconds = (performance.now() - t0) / 1000;
    const parts = { coreset, coresetSize: count, c, unetOnnx: trained.unetOnnx };
    const points: Row["points"] = [];
    for (const tau of taus) for (const mode of ["no-edit", "lafite"] as const) points.push({ mode, tau, scores: await score(mode, parts, tau) });
    rows.push({ samples, seconds, finalLoss: trained.finalLoss, points });
    log(`bench:budget: ${samples} samples in ${seconds.toFixed(0)} s, loss ${trained.finalLoss.toFixed(4)}: ${points.map((p) => `${p.mode}@${p.tau} ${(100 * p.scores.imageAuroc).toFixed(1)}/${(100 * p.scores.pixelAuroc).toFixed(1)}`).join(", ")}`);
  }

  const f = (v: number) => (100 * v).toFixed(1).padStart(5);
  const longest = Math.max(...rows.map((r) => r.seconds));
  console.log(`bench:budget — ${data}: ${suite.bank.length} bank images; image / pixel AUROC (pixel on the ${suite.mapSize}×${suite.mapSize} map)`);
  console.log(`knn ${f(fixed.knn.imageAuroc)} / ${f(fixed.knn.pixelAuroc)}    edit-only ${f(fixed["edit-only"].imageAuroc)} / ${f(fixed["edit-only"].pixelAuroc)}   (no training)`);
  console.log(`samples  train_s  ×longest  loss    ${taus.map((t) => `no-edit@${t}`.padEnd(14) + `lafite@${t}`.padEnd(14)).join("")}`);
  for (const r of rows) {
    const cells = taus.map((t) => (["no-edit", "lafite"] as const).map((mode) => {
      const p = r.points.find((x) => x.mode === mode && x.tau === t)!;
      return `${f(p.scores.imageAuroc)}/${f(p.scores.pixelAuroc)}`.padEnd(14);
    }).join("")).join("");
    console.log(`${String(r.samples).padStart(7)}  ${r.seconds.toFixed(0).padStart(7)}  ${(r.seconds / longest).toFixed(2).padStart(8)}  ${r.finalLoss.toFixed(3)}  ${cells}`);
  }
  if (values.json) await writeFile(values.json, JSON.stringify({ data, bankImages: suite.bank.length, fixed, rows }, null, 2));
} finally {
  await cleanup();
}
