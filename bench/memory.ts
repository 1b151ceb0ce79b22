/**
 * `npm run bench:memory`: the memory bank of a big unified fit, measured.
 * Extracts the realistic suite's features once (or --data's), then for every
 * combination of candidate sampling, candidate cap and coreset size builds
 * the coreset as `lafite fit` does and scores the test set in knn and
 * edit-only modes (no diffusion model needed): mean per-class image AUROC,
 * mean per-class pixel AUROC on the S×S map, the smallest class's figures,
 * selection time and per-frame p50 latency. The first row of the table is
 * the reference (the configured default); the others print their ratio to it.
 *
 * --per-class-share lists memory.perClassShare values (class-coreset.ts) and
 * --seeds model seeds (candidate draw, first pick); with more than one seed
 * a second table gives, per setting, the mean over seeds, the spread
 * (max − min) and each class's mean image / pixel AUROC with its coreset rows.
 *
 * Usage: npm run bench:memory -- [--data DIR | --scale F] [--sampling uniform,stratified]
 *          [--candidates 250000,500000] [--sizes 5000,10000,20000] [--per-class-share 0,1]
 *          [--seeds 0,1,2] [--modes knn,edit-only] [--threads N] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadModelConfig } from "../src/model/model-config.js";
import type { CandidateSampling } from "../src/model/memory/candidates.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { openScorer } from "../src/pipeline/open-scorer.js";
import type { ScoringMode } from "../src/model/types.js";
import { buildCoreset, extractSuiteFeatures, listFlag as list, scoreSuite, suiteData, type SweepScores } from "./support/suite-features.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    config: { type: "string" },
    sampling: { type: "string" },
    candidates: { type: "string" },
    sizes: { type: "string" },
    "per-class-share": { type: "string" },
    seeds: { type: "string" },
    modes: { type: "string" },
    threads: { type: "string" },
    json: { type: "string" },
  },
});
/** One coreset built and scored in one mode. */
interface Row { sampling: string; candidates: number; size: number; share: number; seed: number; mode: ScoringMode; selectSeconds: number; classRows: Readonly<Record<string, number>>; scores: SweepScores }

const log = (m: string) => process.stderr.write(`${m}\n`);
const config = await loadModelConfig(values.config);
const samplings = list(values.sampling, "uniform,stratified") as CandidateSampling[];
const caps = list(values.candidates, String(config.memory.maxCandidates)).map(Number);
const sizes = list(values.sizes, `5000,${config.memory.maxCoresetSize},20000`).map(Number);
const shares = list(values["per-class-share"], String(config.memory.perClassShare)).map(Number);
const seeds = list(values.seeds, String(config.seed)).map(Number);
for (const v of [...shares, ...seeds]) if (!Number.isFinite(v)) throw new Error(`--per-class-share and --seeds take numbers, got ${v}`);
const modes = list(values.modes, "knn,edit-only") as ScoringMode[];
const threads = values.threads !== undefined ? Number(values.threads) : undefined;

const { data, cleanup } = await suiteData(values, "memory");
try {
  const suite = await extractSuiteFeatures(data, config, log, threads);
  const { c, h, w } = suite.bank[0]!;
  const total = suite.bank.length * h * w;
  const smallest = [...new Set(suite.bankClasses)].sort((a, b) => suite.bankClasses.filter((x) => x === a).length - suite.bankClasses.filter((x) => x === b).length)[0]!;
  log(`bench:memory: ${suite.bank.length} bank images (${total} slices), ${suite.test.length} test images, features in ${suite.seconds.toFixed(0)} s; smallest class ${smallest}`);

  const rows: Row[] = [];
  for (const cap of caps) {
    for (const sampling of samplings) {
      for (const size of sizes) {
        for (const share of shares) {
          for (const seed of seeds) {
            const { coreset, count, candidates: n, selectSeconds, classRows } = await buildCoreset(suite, { ...config, seed }, { sampling, candidates: cap, size, perClassShare: share });
            for (const mode of modes) {
              const open = await openScorer(mode, { coreset, coresetSize: count, c }, { mapSize: suite.mapSize, sigma: config.scoring.sigma, pool: config.scoring.pool, k: config.memory.k, tau: 0, deltaT: 1, eta: 0 }, sessionOptions("cpu", threads));
              const scores = await scoreSuite(suite.test, open.scorer);
              await open.release();
              rows.push({ sampling, candidates: n, size: count, share, seed, mode, selectSeconds, classRows, scores });
              log(`bench:memory: ${sampling} ${n} → ${count} share ${share} seed ${seed} ${mode}: image ${(100 * scores.imageAuroc).toFixed(1)} pixel ${(100 * scores.pixelAuroc).toFixed(1)} p50 ${scores.p50Ms.toFixed(1)} ms (select ${selectSeconds.toFixed(0)} s)`);
            }
          }
        }
      }
    }
  }

  const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? "  -  " : (100 * v).toFixed(1).padStart(5));
  console.log(`bench:memory — ${data}: ${suite.bank.length} bank images, ${total} slices; pixel AUROC on the ${suite.mapSize}×${suite.mapSize} map`);
  console.log(`sampling    candidates  coreset  share  seed  mode       image  pixel  ${smallest.slice(0, 10).padEnd(10)}img/pix   select_s  p50_ms  p50×ref`);
  const isDefault = (r: Row) => r.sampling === config.memory.sampling && r.candidates === Math.min(config.memory.maxCandidates, total) && r.size === Math.min(config.memory.maxCoresetSize, r.candidates) && r.share === config.memory.perClassShare;
  for (const mode of modes) {
    const ref = rows.find((r) => r.mode === mode && isDefault(r)) ?? rows.find((r) => r.mode === mode)!;
    for (const r of rows.filter((x) => x.mode === mode)) {
      const small = r.scores.classes[smallest];
      console.log(
        `${r.sampling.padEnd(11)} ${String(r.candidates).padStart(10)} ${String(r.size).padStart(8)}  ${r.share.toFixed(2).padStart(5)} ${String(r.seed).padStart(5)}  ${mode.padEnd(9)} ${pct(r.scores.imageAuroc)}  ${pct(r.scores.pixelAuroc)}  ${pct(small?.image)}/${pct(small?.pixel)}   ${r.selectSeconds.toFixed(0).padStart(8)}  ${r.scores.p50Ms.toFixed(1).padStart(6)}  ${(r.scores.p50Ms / ref.scores.p50Ms).toFixed(2).padStart(7)}${r === ref ? "  (reference)" : ""}`,
      );
    }
  }
  if (seeds.length > 1) seedSummary(rows, modes);
  if (values.json) await writeFile(values.json, JSON.stringify({ data, bankImages: suite.bank.length, slices: total, rows: rows.map((r) => ({ ...r, scores: r.scores })) }, null, 2));
} finally {
  await cleanup();
}

/** Per setting over the seeds: mean and spread of the means, and each class's mean figures and coreset rows. */
function seedSummary(rows: readonly Row[], modes: readonly ScoringMode[]): void {
  const groups = new Map<string, typeof rows>();
  for (const r of rows) {
    const key = `${r.sampling} ${r.candidates} → ${r.size}, share ${r.share}, ${r.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  const f = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(1) : "-");
  console.log(`\nover seeds ${[...new Set(rows.map((r) => r.seed))].join(", ")}: mean image / pixel AUROC (spread max − min); per class mean image / pixel and coreset rows`);
  for (const mode of modes) {
    for (const [key, g] of groups) {
      if (!key.endsWith(`, ${mode}`)) continue;
      const img = g.map((r) => r.scores.imageAuroc);
      const pix = g.map((r) => r.scores.pixelAuroc);
      const classes = Object.keys(g[0]!.scores.classes).sort();
      const perClass = classes.map((k) => {
        const ci = g.map((r) => r.scores.classes[k]?.image ?? NaN);
        const cp = g.map((r) => r.scores.classes[k]?.pixel ?? NaN);
        return `${k} ${f(mean(ci))}/${f(mean(cp))} (${Math.round(mean(g.map((r) => r.classRows[k] ?? 0)))} rows)`;
      });
      console.log(`${key}: ${f(mean(img))} (${f(spread(img))}) / ${f(mean(pix))} (${f(spread(pix))}), select ${mean(g.map((r) => r.selectSeconds)).toFixed(0)} s\n    ${perClass.join("  ")}`);
    }
  }
}
