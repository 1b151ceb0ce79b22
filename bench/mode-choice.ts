/**
 * Would a scoring mode chosen per class by pseudo-validation beat one mode
 * for all? For a fitted bundle, scores the suite's test images, its held-out
 * normals and the synthesized anomalies in each mode at the bundle's
 * settings (main bank alone), and prints per class the pseudo-validation and
 * test AUROC of each mode, the mode pseudo-validation picks (image, then
 * pixel AUROC) and the test AUROC that pick gives against the served mode.
 *
 * Usage: npm run bench:mode-choice -- --data DIR --bundle B [--config FILE] [--modes knn,edit-only,lafite] [--threads N] [--json FILE]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readBundle } from "../src/model/bundle.js";
import { loadModelConfig, pseudoRecipe } from "../src/model/model-config.js";
import type { ScoringMode } from "../src/model/types.js";
import { imageScoreOf, DEFAULT_TOP_FRACTION } from "../src/model/scoring/anomaly-map.js";
import { openScorer } from "../src/pipeline/open-scorer.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { ClassMetrics, extractSuiteFeatures, listFlag, pseudoFeaturesOf, type SuiteTest } from "./support/suite-features.js";
import type { PseudoFeature } from "../src/pipeline/tune/pseudo-features.js";
import { bundleBank } from "./support/bundle-bank.js";

const { values } = parseArgs({
  options: { data: { type: "string" }, bundle: { type: "string" }, config: { type: "string" }, modes: { type: "string" }, threads: { type: "string" }, json: { type: "string" } },
});
if (!values.data || !values.bundle) throw new Error("usage: npm run bench:mode-choice -- --data DIR --bundle B [--config FILE] [--modes knn,edit-only,lafite] [--threads N] [--json FILE]");
const log = (m: string) => process.stderr.write(`${m}\n`);
const config = await loadModelConfig(values.config);
const threads = values.threads !== undefined ? Number(values.threads) : undefined;
const modes = listFlag(values.modes, "knn,edit-only,lafite") as ScoringMode[];

const suite = await extractSuiteFeatures(values.data, config, log, threads);
const loaded = await readBundle(values.bundle);
const bank = bundleBank(loaded, suite);
const anomalies = (await pseudoFeaturesOf(suite, config, pseudoRecipe(config.tuning), threads)).filter((s) => s.anomalous);
log(`pseudo-validation set: ${anomalies.length} anomalies, ${suite.holdout.length} held-out normals`);

type Result = ReturnType<ClassMetrics["result"]>;
const results: { mode: ScoringMode; test: Result; pseudo: Result }[] = [];
for (const mode of modes) {
  const t0 = performance.now();
  const settings = bank.settings;
  const open = await openScorer(mode, bank.parts, settings, sessionOptions("cpu", threads));
  try {
    const S = settings.mapSize;
    const rule = { imageScore: settings.imageScore ?? "pool", pool: settings.pool, top: settings.top ?? DEFAULT_TOP_FRACTION } as const;
    const feed = async (frames: readonly (SuiteTest | PseudoFeature)[], into: ClassMetrics) => {
      for (const f of frames) {
        const { map } = await open.scorer.score(f.x);
        into.add(f, imageScoreOf(map, S, rule), map, S);
      }
    };
    const test = new ClassMetrics();
    await feed(suite.test, test);
    const pseudo = new ClassMetrics();
    await feed(suite.holdout, pseudo);
    await feed(anomalies, pseudo);
    results.push({ mode, test: test.result(), pseudo: pseudo.result() });
  } finally {
    await open.release();
  }
  log(`${mode}: scored in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? "  -  " : (100 * v).toFixed(1).padStart(5));
const classes = Object.keys(results[0]!.test.classes);
const served = results.findIndex((r) => r.mode === loaded.manifest.scoring.mode);
console.log(`bench:mode-choice — ${values.data}, bundle ${values.bundle}; per class: pseudo image/pixel → test image/pixel for each mode`);
console.log(`class        ${results.map((r) => r.mode.padEnd(28)).join("")}pick`);
const picked: { cls: string; mode: ScoringMode; image: number | null; pixel: number | null }[] = [];
for (const cls of classes) {
  const cells = results.map((r) => `${pct(r.pseudo.classes[cls]?.image)}/${pct(r.pseudo.classes[cls]?.pixel)} → ${pct(r.test.classes[cls]?.image)}/${pct(r.test.classes[cls]?.pixel)}`.padEnd(28));
  let best = 0;
  results.forEach((r, i) => {
    const a = r.pseudo.classes[cls], b = results[best]!.pseudo.classes[cls];
    if ((a?.image ?? -1) > (b?.image ?? -1) || ((a?.image ?? -1) === (b?.image ?? -1) && (a?.pixel ?? -1) > (b?.pixel ?? -1))) best = i;
  });
  picked.push({ cls, mode: results[best]!.mode, image: results[best]!.test.classes[cls]?.image ?? null, pixel: results[best]!.test.classes[cls]?.pixel ?? null });
  console.log(`${cls.padEnd(13)}${cells.join("")}${results[best]!.mode}`);
}
const mean = (vs: (number | null)[]) => {
  const ok = vs.filter((v): v is number => v !== null);
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};
console.log(`mean         ${results.map((r) => `${pct(r.pseudo.imageAuroc)}/${pct(r.pseudo.pixelAuroc)} → ${pct(r.test.imageAuroc)}/${pct(r.test.pixelAuroc)}`.padEnd(28)).join("")}`);
console.log(`per-class pick → test ${pct(mean(picked.map((p) => p.image)))} / ${pct(mean(picked.map((p) => p.pixel)))}` + (served >= 0 ? `; served mode (${results[served]!.mode}) ${pct(results[served]!.test.imageAuroc)} / ${pct(results[served]!.test.pixelAuroc)}` : ""));
if (values.json) await writeFile(values.json, JSON.stringify({ data: values.data, bundle: values.bundle, results, picked }, null, 2));
