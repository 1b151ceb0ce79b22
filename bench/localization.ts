/**
 * `npm run bench:localization`: the anomaly map's post-processing per class.
 * Extracts the suite's features once (realistic suite, or --data; --config
 * for another backbone pooling, input size or grid), builds the default
 * coreset, and computes each test image's per-position scores once per mode.
 * Then, for every blur σ and image-score rule (max of a pool×pool average,
 * or the mean of the top fraction of the map), it reports per class image
 * AUROC and pixel AUROC (on the S×S map) and three choices:
 *   default      the configured σ and pool for every class
 *   pseudo-val   per class, the setting that is best on the pseudo-validation
 *                set fit builds (what the model can choose without test labels)
 *   oracle       per class, the best on the test set itself (an upper bound)
 *
 * Usage: npm run bench:localization -- [--data DIR | --scale F] [--config FILE]
 *          [--sigmas 1,2,4,8] [--rules pool1,pool4,pool8,pool16,top0.01] [--modes knn,edit-only] [--threads N] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadModelConfig } from "../src/model/model-config.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { anomalyMap, imageScore, topFractionMean } from "../src/model/scoring/anomaly-map.js";
import { auroc, PixelMetricAccumulator } from "../src/measures/metrics.js";
import { openScorer } from "../src/pipeline/open-scorer.js";
import { framePixels, type PseudoFeature } from "../src/pipeline/tune/pseudo-features.js";
import type { FrameScorer } from "../src/pipeline/frame-scorer.js";
import type { ScoringMode } from "../src/model/types.js";
import { buildCoreset, extractSuiteFeatures, listFlag as list, suiteData, type SuiteTest } from "./support/suite-features.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    config: { type: "string" },
    sigmas: { type: "string" },
    rules: { type: "string" },
    modes: { type: "string" },
    threads: { type: "string" },
    json: { type: "string" },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const config = await loadModelConfig(values.config);
const sigmas = list(values.sigmas, "1,2,4,8").map(Number);
const rules = list(values.rules, "pool1,pool4,pool8,pool16,top0.01");
const modes = list(values.modes, "knn,edit-only") as ScoringMode[];
const threads = values.threads !== undefined ? Number(values.threads) : undefined;
const defaultRule = `pool${config.scoring.pool}`;
if (!rules.includes(defaultRule)) rules.push(defaultRule);
if (!sigmas.includes(config.scoring.sigma)) sigmas.push(config.scoring.sigma);

function imageRule(rule: string): (map: Float32Array, S: number) => number {
  const pool = /^pool(\d+)$/.exec(rule);
  if (pool) return (map, S) => imageScore(map, S, S, Number(pool[1]));
  const top = /^top(0?\.\d+|1)$/.exec(rule);
  if (top) return (map) => topFractionMean(map, Number(top[1]));
  throw new Error(`unknown image-score rule '${rule}' (poolN or topF)`);
}

/** Per class and setting: image AUROC per (σ, rule) and pixel AUROC per σ. */
interface Grid {
  image: Map<string, Map<string, number | null>>;
  pixel: Map<string, Map<number, number | null>>;
}

async function gridOf(set: readonly SuiteTest[], scorer: FrameScorer, S: number): Promise<Grid> {
  const classes = [...new Set(set.map((s) => s.cls))];
  const scores = new Map<string, number[]>();
  const pixels = new Map<string, PixelMetricAccumulator>();
  for (const s of set) {
    const { values: v } = await scorer.positionScores(s.x, 0);
    for (const sigma of sigmas) {
      const map = anomalyMap(v, s.x.h, s.x.w, S, sigma);
      const pk = `${s.cls}|${sigma}`;
      const acc = pixels.get(pk) ?? new PixelMetricAccumulator();
      const px = framePixels(s, map, S);
      acc.add(px.map, px.mask);
      pixels.set(pk, acc);
      for (const rule of rules) {
        const key = `${s.cls}|${sigma}|${rule}`;
        scores.set(key, [...(scores.get(key) ?? []), imageRule(rule)(map, S)]);
      }
    }
  }
  const grid: Grid = { image: new Map(), pixel: new Map() };
  for (const cls of classes) {
    const labels = set.filter((s) => s.cls === cls).map((s) => (s.anomalous ? 1 : 0));
    const both = labels.includes(0) && labels.includes(1);
    const img = new Map<string, number | null>();
    const pix = new Map<number, number | null>();
    for (const sigma of sigmas) {
      const acc = pixels.get(`${cls}|${sigma}`)!;
      pix.set(sigma, acc.aurocOrNull());
      for (const rule of rules) img.set(`${sigma}|${rule}`, both ? auroc(scores.get(`${cls}|${sigma}|${rule}`)!, labels) : null);
    }
    grid.image.set(cls, img);
    grid.pixel.set(cls, pix);
  }
  return grid;
}

/** The key with the highest value (first on ties, so the default, listed first, wins ties). */
function best<K>(m: Map<K, number | null>, first: K): K {
  let bestKey = first;
  let bestValue = m.get(first) ?? -Infinity;
  for (const [k, v] of m) if (v !== null && v > (bestValue ?? -Infinity)) (bestKey = k), (bestValue = v);
  return bestKey;
}

const { data, cleanup } = await suiteData(values, "localization");
try {
  const suite = await extractSuiteFeatures(data, config, log, threads, { pseudo: true });
  const { c, h } = suite.bank[0]!;
  const m = config.memory;
  const { coreset, count } = await buildCoreset(suite, config);
  const S = suite.mapSize;
  const out: Record<string, unknown> = {};
  const f = (v: number | null | undefined) => (v === null || v === undefined ? "   - " : (100 * v).toFixed(1).padStart(5));
  const mean = (vs: (number | null)[]) => {
    const ok = vs.filter((v): v is number => v !== null);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null;
  };
  const defaultImage = `${config.scoring.sigma}|${defaultRule}`;
  console.log(`bench:localization — ${data}: ${suite.bank.length} bank images, backbone pool ${config.backbone.pool}, S ${S}, grid ${h}; pixel AUROC on the S×S map`);
  for (const mode of modes) {
    const open = await openScorer(mode, { coreset, coresetSize: count, c }, { mapSize: S, sigma: config.scoring.sigma, pool: config.scoring.pool, k: m.k, tau: 0, deltaT: 1, eta: 0 }, sessionOptions("cpu", threads));
    const testGrid = await gridOf(suite.test, open.scorer, S);
    const pseudoGrid = await gridOf(suite.pseudo, open.scorer, S);
    await open.release();
    console.log(`\n${mode}: per class, pixel AUROC by σ (${sigmas.join(", ")}) and image AUROC by rule at the default σ ${config.scoring.sigma}`);
    const rows: { cls: string; image: [number | null, number | null, number | null]; pixel: [number | null, number | null, number | null]; chosen: { sigma: number; image: string } }[] = [];
    for (const cls of testGrid.pixel.keys()) {
      const tp = testGrid.pixel.get(cls)!;
      const ti = testGrid.image.get(cls)!;
      const pp = pseudoGrid.pixel.get(cls) ?? new Map<number, number | null>();
      const pi = pseudoGrid.image.get(cls) ?? new Map<string, number | null>();
      const sigmaPv = best(pp, config.scoring.sigma);
      const imagePv = best(pi, defaultImage);
      const sigmaOr = best(tp, config.scoring.sigma);
      const imageOr = best(ti, defaultImage);
      rows.push({
        cls,
        pixel: [tp.get(config.scoring.sigma) ?? null, tp.get(sigmaPv) ?? null, tp.get(sigmaOr) ?? null],
        image: [ti.get(defaultImage) ?? null, ti.get(imagePv) ?? null, ti.get(imageOr) ?? null],
        chosen: { sigma: sigmaPv, image: imagePv },
      });
      console.log(`  ${cls.padEnd(12)} pixel ${sigmas.map((s) => f(tp.get(s))).join(" ")}   image ${rules.map((r) => `${r} ${f(ti.get(`${config.scoring.sigma}|${r}`))}`).join("  ")}   pseudo-val picks σ ${sigmaPv}, image ${imagePv.replace("|", " ")}`);
    }
    console.log(`  ${"class".padEnd(12)} image: default  pseudo-val  oracle   pixel: default  pseudo-val  oracle`);
    for (const r of rows) console.log(`  ${r.cls.padEnd(12)}        ${f(r.image[0])}      ${f(r.image[1])}   ${f(r.image[2])}          ${f(r.pixel[0])}      ${f(r.pixel[1])}   ${f(r.pixel[2])}`);
    const col = (k: "image" | "pixel", i: number) => mean(rows.map((r) => r[k][i]!));
    console.log(`  ${"mean".padEnd(12)}        ${f(col("image", 0))}      ${f(col("image", 1))}   ${f(col("image", 2))}          ${f(col("pixel", 0))}      ${f(col("pixel", 1))}   ${f(col("pixel", 2))}`);
    out[mode] = { rows, test: { pixel: Object.fromEntries([...testGrid.pixel].map(([k, v]) => [k, Object.fromEntries(v)])), image: Object.fromEntries([...testGrid.image].map(([k, v]) => [k, Object.fromEntries(v)])) } };
  }
  if (values.json) await writeFile(values.json, JSON.stringify({ data, config: { backbone: config.backbone, grid: config.grid }, modes: out }, null, 2));
} finally {
  await cleanup();
}
