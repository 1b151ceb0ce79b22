/**
 * Does the pseudo-validation set rank settings as the real test set does?
 * Fit picks τ, K and the image-score rule by it, the lifecycle's gate
 * promotes by it, and a per-class choice of settings would rest on it, so
 * this measures that, for each recipe of the set (the share of anomalies
 * blended in seamlessly, `tuning.seamless`, the share that are logical,
 * a part removed or added, `tuning.logical`, and the share of the rest
 * shaded in place, `tuning.shade`).
 *
 * For a fitted bundle (--bundle, fitted on --data with --config), it scores
 * the suite's test images, its held-out normals and each recipe's
 * synthesized anomalies at the points the tuner sweeps: τ over the trained
 * grid at the configured K, and K over its grid at the bundle's τ, each
 * with both image-score rules (the same maps). Then, per recipe:
 *   - Spearman ρ over those points between pseudo-validation and test AUROC,
 *     mean image and mean pixel, and per class (image);
 *   - the point the tuner's rule picks (best pseudo image AUROC, then
 *     pixel), and the test AUROC there, against the best test point;
 *   - a per-class pick: each class at its own best pseudo point, and the
 *     test AUROC that would give.
 * Pixel AUROC is the mean over classes at the S×S map, as the tuner's.
 *
 * --per-class N synthesizes N anomalies per class instead of tuning.perClass
 * (is a per-class pick limited by the set's size?).
 *
 * Usage: npm run bench:pseudo -- --data DIR --bundle B [--config FILE] [--seamless 0,0.5,1] [--logical 0] [--shade 0,0.5] [--per-class N] [--mode M] [--threads N] [--json FILE]
 * (one recipe per triple of a seamless, a logical and a shade share; --shade defaults to the config's tuning.shade)
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { readBundle } from "../src/model/bundle.js";
import { loadModelConfig, pseudoRecipe } from "../src/model/model-config.js";
import type { ScoringMode } from "../src/model/types.js";
import { imageScoreOf, DEFAULT_TOP_FRACTION, type ImageScoreRule } from "../src/model/scoring/anomaly-map.js";
import { openScorer, type ScorerSettings } from "../src/pipeline/open-scorer.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { trainedTaus } from "../src/pipeline/tune/trained-taus.js";
import { bestPointIndex } from "../src/pipeline/tune/best-point.js";
import { spearman } from "../src/measures/rank-correlation.js";
import type { PseudoFeature } from "../src/pipeline/tune/pseudo-features.js";
import { ClassMetrics, extractSuiteFeatures, listFlag, pseudoFeaturesOf, type SuiteTest } from "./support/suite-features.js";
import { bundleBank } from "./support/bundle-bank.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    bundle: { type: "string" },
    config: { type: "string" },
    seamless: { type: "string" },
    logical: { type: "string" },
    shade: { type: "string" },
    "per-class": { type: "string" },
    mode: { type: "string" },
    threads: { type: "string" },
    json: { type: "string" },
  },
});
if (!values.data || !values.bundle) throw new Error("usage: npm run bench:pseudo -- --data DIR --bundle B [--config FILE] [--seamless 0,0.5,1] [--logical 0] [--shade 0,0.5] [--per-class N] [--mode M] [--threads N] [--json FILE]");
const log = (m: string) => process.stderr.write(`${m}\n`);
const config = await loadModelConfig(values.config);
const shares = listFlag(values.seamless, "0,0.5,1").map(Number);
if (shares.some((v) => !(v >= 0 && v <= 1))) throw new Error(`--seamless ${values.seamless}: each share is a number from 0 to 1`);
const logicalShares = listFlag(values.logical, "0").map(Number);
if (logicalShares.some((v) => !(v >= 0 && v <= 1))) throw new Error(`--logical ${values.logical}: each share is a number from 0 to 1`);
const shadeShares = listFlag(values.shade, String(config.tuning.shade)).map(Number);
if (shadeShares.some((v) => !(v >= 0 && v <= 1))) throw new Error(`--shade ${values.shade}: each share is a number from 0 to 1`);
const perClass = values["per-class"] !== undefined ? Number(values["per-class"]) : config.tuning.perClass;
if (!Number.isInteger(perClass) || perClass < 2) throw new Error(`--per-class ${values["per-class"]}: an integer of at least 2`);
const threads = values.threads !== undefined ? Number(values.threads) : undefined;

const suite = await extractSuiteFeatures(values.data, config, log, threads);
const loaded = await readBundle(values.bundle);
const bank = bundleBank(loaded, suite);
const mode = (values.mode ?? loaded.manifest.scoring.mode) as ScoringMode;
const recipes = [];
for (const seamless of shares) {
  for (const logical of logicalShares) {
    for (const shade of shadeShares) {
      const { anomaly: _configured, logical: _share, shade: _shade, ...recipe } = pseudoRecipe(config.tuning);
      const set = await pseudoFeaturesOf(suite, config, { ...recipe, perClass, ...(seamless > 0 ? { anomaly: { seamless } } : {}), ...(logical > 0 ? { logical } : {}), ...(shade > 0 ? { shade } : {}) }, threads);
      recipes.push({ seamless, logical, shade, label: `${seamless}/${logical}/${shade}`, anomalies: set.filter((s) => s.anomalous) });
      log(`pseudo-validation set, seamless share ${seamless}, logical share ${logical}, shade share ${shade}: ${recipes.at(-1)!.anomalies.length} anomalies`);
    }
  }
}

interface Point {
  readonly tau: number;
  readonly k: number;
  readonly rule: ImageScoreRule;
}
/** The tuner's sweeps: τ at the configured K, then K at the bundle's τ (the point they share once). */
const base = bank.settings;
const diffusion = mode === "lafite" || mode === "no-edit";
const taus = diffusion ? trainedTaus(config.tuning.taus, config.diffusion.tMax) : [base.tau];
const settingsGrid: { tau: number; k: number }[] = [...taus.map((tau) => ({ tau, k: config.memory.k })), ...config.tuning.ks.map((k) => ({ tau: base.tau, k: Math.min(k, bank.parts.coresetSize) }))].filter(
  (p, i, all) => all.findIndex((q) => q.tau === p.tau && q.k === p.k) === i,
);
const rules: ImageScoreRule[] = ["pool", "top"];

type Result = ReturnType<ClassMetrics["result"]>;
/** Per point: the test set's metrics and each recipe's pseudo-validation metrics. */
const results: { point: Point; test: Result; pseudo: Result[] }[] = [];
for (const s of settingsGrid) {
  const t0 = performance.now();
  const settings: ScorerSettings = { ...base, tau: s.tau, deltaT: diffusion ? Math.max(1, Math.round(s.tau / config.tuning.steps)) : base.deltaT, k: s.k };
  const open = await openScorer(mode, bank.parts, settings, sessionOptions("cpu", threads));
  try {
    const S = settings.mapSize;
    const ruleSettings = rules.map((rule) => ({ imageScore: rule, pool: settings.pool, top: settings.top ?? DEFAULT_TOP_FRACTION }));
    /** Scores each frame once and feeds every rule's accumulator in each of `into`'s lists. */
    const feed = async (frames: readonly (SuiteTest | PseudoFeature)[], ...into: ClassMetrics[][]) => {
      for (const f of frames) {
        const { map } = await open.scorer.score(f.x);
        ruleSettings.forEach((rule, r) => {
          const score = imageScoreOf(map, S, rule);
          for (const list of into) list[r]!.add(f, score, map, S);
        });
      }
    };
    const test = rules.map(() => new ClassMetrics());
    await feed(suite.test, test);
    // The held-out normals are every recipe's negatives: score them once, into each recipe's accumulators.
    const pseudo = recipes.map(() => rules.map(() => new ClassMetrics()));
    await feed(suite.holdout, ...pseudo);
    for (const [i, r] of recipes.entries()) await feed(r.anomalies, pseudo[i]!);
    rules.forEach((rule, r) => results.push({ point: { ...s, rule }, test: test[r]!.result(), pseudo: pseudo.map((p) => p[r]!.result()) }));
  } finally {
    await open.release();
  }
  log(`${mode} τ=${s.tau} K=${s.k}: scored in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

const pct = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? "  -  " : (100 * v).toFixed(1).padStart(5));
const rho = (v: number | null) => (v === null ? "  -  " : v.toFixed(2).padStart(5));
const name = (p: Point) => `τ=${p.tau} K=${p.k} ${p.rule}`;
const classes = Object.keys(results[0]!.test.classes);
/** ρ, or null when a metric is missing at some point (a class without both labels). */
const rhoOf = (a: number[], b: number[]) => (a.some(Number.isNaN) || b.some(Number.isNaN) ? null : spearman(a, b));
const asTuningPoint = (r: Result) => ({ image_auroc: r.imageAuroc, pixel_auroc: r.pixelAuroc });
const bestTest = bestPointIndex(results.map((r) => asTuningPoint(r.test)));
const served = results.findIndex((r) => r.point.tau === base.tau && r.point.k === base.k && r.point.rule === (base.imageScore ?? "pool"));

console.log(`bench:pseudo — ${values.data}, bundle ${values.bundle}, ${mode} mode, ${perClass} anomalies per class; ${settingsGrid.length * rules.length} points (${settingsGrid.length} settings × pool/top); AUROC in %`);
console.log(`best test point: ${name(results[bestTest]!.point)} ${pct(results[bestTest]!.test.imageAuroc)} / ${pct(results[bestTest]!.test.pixelAuroc)}`);
if (served >= 0) console.log(`served point:    ${name(results[served]!.point)} ${pct(results[served]!.test.imageAuroc)} / ${pct(results[served]!.test.pixelAuroc)}`);
console.log(`\nseamless/logical/shade | ρ image | ρ pixel | tuner's pick → test image / pixel | per-class pick → test image / pixel | ρ image per class (${classes.join(", ")})`);
const summary = recipes.map((recipe, i) => {
  const pseudoOf = (r: (typeof results)[number]) => r.pseudo[i]!;
  const rhoImage = rhoOf(results.map((r) => pseudoOf(r).imageAuroc), results.map((r) => r.test.imageAuroc));
  const rhoPixel = rhoOf(results.map((r) => pseudoOf(r).pixelAuroc), results.map((r) => r.test.pixelAuroc));
  const pick = bestPointIndex(results.map((r) => asTuningPoint(pseudoOf(r))));
  const perClass = classes.map((cls) => {
    const classPoint = (r: (typeof results)[number]) => ({ image_auroc: pseudoOf(r).classes[cls]?.image ?? null, pixel_auroc: pseudoOf(r).classes[cls]?.pixel ?? null });
    const at = bestPointIndex(results.map(classPoint));
    const column = (v: (r: Result) => number | null | undefined) => results.map((r) => v(r.test) ?? NaN);
    return {
      cls,
      point: results[at]!.point,
      test: results[at]!.test.classes[cls]!,
      rho: rhoOf(column((r) => r.classes[cls]?.image), results.map((r) => pseudoOf(r).classes[cls]?.image ?? NaN)),
    };
  });
  const mean = (vs: (number | null)[]) => {
    const ok = vs.filter((v): v is number => v !== null);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
  };
  const perClassImage = mean(perClass.map((c) => c.test.image));
  const perClassPixel = mean(perClass.map((c) => c.test.pixel));
  const picked = results[pick]!;
  console.log(
    `${recipe.label.padEnd(22)} | ${rho(rhoImage)}   | ${rho(rhoPixel)}   | ${name(picked.point).padEnd(16)} ${pct(picked.test.imageAuroc)} / ${pct(picked.test.pixelAuroc)} | ${pct(perClassImage)} / ${pct(perClassPixel)}                    | ${perClass.map((c) => rho(c.rho).trim()).join(", ")}`,
  );
  return { seamless: recipe.seamless, logical: recipe.logical, shade: recipe.shade, label: recipe.label, rhoImage, rhoPixel, pick: { point: picked.point, test: picked.test }, perClass, perClassTest: { image: perClassImage, pixel: perClassPixel } };
});
console.log(`\nper-class picks (class: point → test image / pixel):`);
for (const s of summary) console.log(`  seamless/logical/shade ${s.label}: ${s.perClass.map((c) => `${c.cls} ${name(c.point)} → ${pct(c.test.image).trim()}/${pct(c.test.pixel).trim()}`).join("; ")}`);
if (values.json) await writeFile(values.json, JSON.stringify({ data: values.data, bundle: values.bundle, mode, points: results, summary }, null, 2));
