/**
 * `npm run bench:ensemble`: a second, detail-only memory bank beside the
 * default one, and their maps combined: the measurement behind the served
 * detail bank (src/model/scoring/detail-bank.ts, the `--detail-rows main`
 * variant blended as "z w=W"), and the alternatives it was chosen over.
 *
 * Why: on the realistic suite the backbone's stride-16 stage decides the
 * logical class (assembly), while the fine textures and hairlines localize
 * best from the stride-4/8 stages alone; every global stage weighting moved
 * one group of classes down to lift the other. Two banks, each searched for
 * its own nearest neighbour, let each class's evidence win where it is
 * strongest without knowing the class.
 *
 * The bench extracts the suite's features once with the configured backbone,
 * builds the default coreset over all channels ("main") and one over the
 * channels of --detail stages ("detail", kNN only), scores every held-out
 * normal and test image with both, and reports image AUROC (mean of the
 * map's top 1 %) and pixel AUROC (on the S×S map) per class for:
 *   main, detail                each alone
 *   max p99 / mean p99          each bank's position scores divided by the
 *                               99th percentile over held-out normals, then
 *                               the larger, or the mean, of the two
 *   max z / mean z              each standardized by the held-out normals'
 *                               mean and standard deviation instead
 *   z w=W                       (1 − W)·main + W·detail of the standardized
 *                               scores, for each W of --detail-weights
 *
 * Each line is followed by the pseudo-validation set's figures per class
 * (the set `tuning` of --config describes, e.g. `tuning.logical`).
 *
 * --detail-rows main builds no second selection: the detail bank is the
 * detail channels of the main bank's own rows (no extra fit time, and a
 * lifecycle refresh of the main bank refreshes it too); `own` (default)
 * selects its rows by greedy k-center over the detail channels.
 *
 * With --bundle B (fitted on --data with --config), the main bank is B's:
 * its coreset, and in lafite mode its U-Net and tuned τ, Δt and K.
 *
 * Usage: npm run bench:ensemble -- [--data DIR | --scale F] [--config FILE] [--bundle B]
 *          [--detail block_2_add,block_5_add] [--detail-weights 0.2,0.33] [--modes knn,edit-only(,lafite with --bundle)] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadModelConfig } from "../src/model/model-config.js";
import { buildBackboneOnnx } from "../src/model/backbone/index.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { anomalyMap, topFractionMean } from "../src/model/scoring/anomaly-map.js";
import { channelSlice, rowSlice } from "../src/model/scoring/detail-bank.js";
import { seedOfFeatures } from "../src/pipeline/frame-scorer.js";
import { openScorer, type ScorerParts, type ScorerSettings } from "../src/pipeline/open-scorer.js";
import { readBundle } from "../src/model/bundle.js";
import { bundleBank } from "./support/bundle-bank.js";
import type { FeatureMap, ScoringMode } from "../src/model/types.js";
import { buildCoreset, ClassMetrics, extractSuiteFeatures, listFlag, suiteData, type SuiteFeatures, type SuiteTest } from "./support/suite-features.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    config: { type: "string" },
    detail: { type: "string" },
    "detail-weights": { type: "string" },
    "detail-rows": { type: "string" },
    modes: { type: "string" },
    bundle: { type: "string" },
    json: { type: "string" },
  },
});
const log = (m: string) => process.stderr.write(`${m}\n`);
const config = await loadModelConfig(values.config);
const modes = listFlag(values.modes, values.bundle ? "knn,edit-only,lafite" : "knn,edit-only") as ScoringMode[];
const detailStages = listFlag(values.detail, "block_2_add,block_5_add");
const detailWeights = listFlag(values["detail-weights"], "0.2,0.33").map(Number);
if (detailWeights.some((v) => !(v >= 0 && v <= 1))) throw new Error(`--detail-weights ${values["detail-weights"]}: each weight is a number from 0 to 1`);

/** Channel range [lo, hi) of the detail stages in the concatenated features; they must be adjacent, in the backbone's order. */
function detailChannels(): [number, number] {
  const b = config.backbone;
  if (b.kind !== "builtin") throw new Error("bench:ensemble reads stage widths from the builtin backbone; --config names a user ONNX backbone");
  const { stageChannels } = buildBackboneOnnx({ arch: b.arch, stages: [...b.stages], grid: config.grid, pool: b.pool, ...(b.inputSize ? { inputSize: b.inputSize } : {}) });
  const first = b.stages.indexOf(detailStages[0]!);
  if (first < 0 || detailStages.some((s, i) => b.stages[first + i] !== s)) throw new Error(`--detail ${detailStages.join(",")} is not a run of the backbone's stages ${b.stages.join(",")}`);
  const lo = stageChannels.slice(0, first).reduce((a, v) => a + v, 0);
  const hi = lo + stageChannels.slice(first, first + detailStages.length).reduce((a, v) => a + v, 0);
  return [lo, hi];
}


interface Normalizer {
  readonly mean: number;
  readonly sd: number;
  readonly p99: number;
}

/** Mean, standard deviation and 99th percentile of every position score of the held-out normals. */
function normalizerOf(maps: readonly Float32Array[]): Normalizer {
  const all = Float32Array.from(maps.flatMap((m) => Array.from(m))).sort();
  let s = 0;
  let s2 = 0;
  for (const v of all) (s += v), (s2 += v * v);
  const mean = s / all.length;
  return { mean, sd: Math.sqrt(Math.max(0, s2 / all.length - mean * mean)), p99: all[Math.floor(0.99 * (all.length - 1))]! };
}

type Combine = (a: Float32Array, b: Float32Array, na: Normalizer, nb: Normalizer) => Float32Array;
// z-scores are shifted by a constant so every pixel score stays ≥ 0, as the pixel metric requires; AUROC is unchanged by a shift.
const Z_SHIFT = 50;
const pairwise = (f: (u: number, v: number) => number, scale: (v: number, n: Normalizer) => number): Combine => (a, b, na, nb) => a.map((v, i) => f(scale(v, na), scale(b[i]!, nb)));
const byP99 = (v: number, n: Normalizer) => v / n.p99;
const byZ = (v: number, n: Normalizer) => Math.max(0, Z_SHIFT + (v - n.mean) / n.sd);
const COMBINATIONS: Record<string, Combine | "main" | "detail"> = {
  main: "main",
  detail: "detail",
  "max p99": pairwise(Math.max, byP99),
  "mean p99": pairwise((u, v) => (u + v) / 2, byP99),
  "max z": pairwise(Math.max, byZ),
  "mean z": pairwise((u, v) => (u + v) / 2, byZ),
  ...Object.fromEntries(detailWeights.map((wd) => [`z w=${wd}`, pairwise((u, v) => (1 - wd) * u + wd * v, byZ)])),
};

async function positionScores(mode: ScoringMode, parts: ScorerParts, settings: ScorerSettings, lo: number, hi: number, sets: Record<"hold" | "test" | "pseudo", readonly { x: FeatureMap }[]>) {
  const open = await openScorer(mode, parts, settings, sessionOptions("cpu"));
  try {
    const run = async (set: readonly { x: FeatureMap }[]) => {
      const out: Float32Array[] = [];
      for (const t of set) {
        const x = channelSlice(t.x, [lo, hi]);
        // The noise seed serving uses, so lafite maps equal `lafite eval`'s.
        out.push((await open.scorer.positionScores(x, seedOfFeatures(x))).values);
      }
      return out;
    };
    return { hold: await run(sets.hold), test: await run(sets.test), pseudo: await run(sets.pseudo) };
  } finally {
    await open.release();
  }
}

/** Per class image AUROC (top fraction) and pixel AUROC of one combination's maps over a labelled set, and their means. */
function evaluate(set: readonly SuiteTest[], a: readonly Float32Array[], b: readonly Float32Array[], combined: (a: Float32Array, b: Float32Array) => Float32Array, settings: ScorerSettings) {
  const metrics = new ClassMetrics();
  const S = settings.mapSize;
  set.forEach((t, i) => {
    const map = anomalyMap(combined(a[i]!, b[i]!), t.x.h, t.x.w, S, settings.sigma);
    metrics.add(t, topFractionMean(map, settings.top ?? config.scoring.top), map, S);
  });
  return metrics.result();
}

const { data, cleanup } = await suiteData(values, "ensemble");
try {
  const [lo, hi] = detailChannels();
  // The pseudo-validation set fit would build: which combination could a fit choose without test labels?
  const suite = await extractSuiteFeatures(data, config, log, undefined, { pseudo: true });
  const { c } = suite.bank[0]!;
  const m = config.memory;
  const defaults: ScorerSettings = { mapSize: suite.mapSize, sigma: config.scoring.sigma, pool: config.scoring.pool, k: m.k, tau: 0, deltaT: 1, eta: 0 };
  let main: { parts: ScorerParts; settings: ScorerSettings };
  if (values.bundle) {
    main = bundleBank(await readBundle(values.bundle), suite);
    log(`main bank: ${values.bundle}, ${main.parts.coresetSize} rows × ${c} channels`);
  } else {
    const built = await buildCoreset(suite, config);
    main = { parts: { coreset: built.coreset, coresetSize: built.count, c }, settings: defaults };
    log(`main bank: ${built.count} rows × ${c} channels, selected in ${built.selectSeconds.toFixed(0)} s`);
  }
  const detailSuite = { ...suite, bank: suite.bank.map((x) => channelSlice(x, [lo, hi])) };
  const detailRows = values["detail-rows"] ?? "own";
  if (detailRows !== "own" && detailRows !== "main") throw new Error(`--detail-rows ${detailRows}: own or main`);
  const detail =
    detailRows === "main"
      ? { coreset: rowSlice(main.parts.coreset, main.parts.coresetSize, c, [lo, hi]), count: main.parts.coresetSize, selectSeconds: 0 }
      : await buildCoreset(detailSuite, config);
  log(`detail bank (${detailStages.join("+")}, channels ${lo}–${hi - 1}): ${detail.count} rows, ${detailRows === "main" ? "the main bank's rows" : `selected in ${detail.selectSeconds.toFixed(0)} s`}`);
  const sets = { hold: suite.holdout, test: suite.test, pseudo: suite.pseudo };
  const detailScores = await positionScores("knn", { coreset: detail.coreset, coresetSize: detail.count, c: hi - lo }, defaults, lo, hi, sets);
  const nDetail = normalizerOf(detailScores.hold);
  const pct = (v: number) => (100 * v).toFixed(1).padStart(5);
  const perClassLine = (r: ReturnType<typeof evaluate>) =>
    Object.entries(r.classes)
      .map(([cls, m]) => `${cls} ${m.image === null ? "-" : pct(m.image).trim()}/${m.pixel === null ? "-" : pct(m.pixel).trim()}`)
      .join("  ");
  const out: Record<string, unknown> = {};
  console.log(`bench:ensemble — ${data}: ${suite.bank.length} bank images, main ${c} channels, detail ${detailStages.join("+")} (${hi - lo} channels), ${main.parts.coresetSize} + ${detail.count} rows; image AUROC (top 1 %) / pixel AUROC`);
  for (const mode of modes) {
    const mainScores = await positionScores(mode, main.parts, main.settings, 0, c, sets);
    const nMain = normalizerOf(mainScores.hold);
    console.log(`\nmain bank in ${mode} mode, detail bank in knn mode`);
    const table: Record<string, unknown> = {};
    for (const [name, combine] of Object.entries(COMBINATIONS)) {
      const combined = (a: Float32Array, b: Float32Array) => (combine === "main" ? a : combine === "detail" ? b : combine(a, b, nMain, nDetail));
      const test = evaluate(suite.test, mainScores.test, detailScores.test, combined, main.settings);
      const pv = evaluate(suite.pseudo, mainScores.pseudo, detailScores.pseudo, combined, main.settings);
      console.log(`  ${name.padEnd(9)} ${pct(test.imageAuroc)} / ${pct(test.pixelAuroc)}   pseudo-val ${pct(pv.imageAuroc)} / ${pct(pv.pixelAuroc)}   ${perClassLine(test)}`);
      // Per class on the pseudo-validation set too: does it see what a combination costs one class (the logical one) on the test set?
      console.log(`  ${"".padEnd(9)} ${"".padEnd(13)}   ${"per class".padEnd(24)}   ${perClassLine(pv)}`);
      table[name] = { test, pseudo: pv };
    }
    out[mode] = table;
  }
  if (values.json) await writeFile(values.json, JSON.stringify({ data, detail: detailStages, channels: [lo, hi], rows: { main: main.parts.coresetSize, detail: detail.count }, modes: out }, null, 2));
} finally {
  await cleanup();
}
