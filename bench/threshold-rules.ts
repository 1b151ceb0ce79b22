/**
 * `npm run bench:threshold -- --bundle B --data DIR`: for each threshold
 * rule, the threshold it picks from the bundle's pseudo-validation set
 * (held-out normals + synthesized anomalies, as fit builds it), and what
 * that threshold does on DIR's real test set: false-alarm rate on good
 * images and miss rate on defective ones, with each rule's ratio to the
 * normal-quantile rule. This is the measurement the default rule comes from.
 * Each rule is also applied per class (threshold.perClass, at least
 * threshold.minClassNormals held-out normals), every test image judged by
 * the threshold of the class the model reads it as: the "… per class" lines.
 */
import { parseArgs } from "node:util";
import { readBundle } from "../src/model/bundle.js";
import { parseModelConfig } from "../src/model/model-config.js";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { calibrateThreshold, THRESHOLD_RULES, withClassThresholds } from "../src/model/scoring/threshold.js";
import { openScorer, scorerSettingsOf } from "../src/pipeline/open-scorer.js";
import { loadDetector } from "../src/pipeline/load.js";
import { pseudoSetOfBundle, scorerPartsOf } from "../src/pipeline/tune/tune-bundle.js";
import { scorePseudoSet } from "../src/pipeline/tune/score-set.js";
import { evaluate } from "../src/eval/evaluate.js";

const { values } = parseArgs({ options: { bundle: { type: "string" }, data: { type: "string" }, mode: { type: "string" }, "per-class": { type: "string" } } });
if (!values.bundle || !values.data) throw new Error("usage: npm run bench:threshold -- --bundle BUNDLE --data DIR [--mode M] [--per-class N]");
const quiet = () => {};
const loaded = await readBundle(values.bundle);
const m = loaded.manifest;
const config = parseModelConfig(m.config);
const mode = (values.mode ?? m.scoring.mode) as typeof m.scoring.mode;
const tc = { ...config.tuning, ...(values["per-class"] ? { perClass: Number(values["per-class"]) } : {}) };
const sess = sessionOptions("cpu");

const set = await pseudoSetOfBundle(loaded, values.data, tc, sess, { progressSink: quiet });
// Scored as served: the bundle's image-score rule and detail bank too.
const opened = await openScorer(mode, scorerPartsOf(loaded), scorerSettingsOf(m), sess);
const { scores } = await scorePseudoSet(set, opened.scorer);
await opened.release();
const normals = scores.filter((_, i) => !set[i]!.anomalous);
const anomalies = scores.filter((_, i) => set[i]!.anomalous);

const detector = await loadDetector(values.bundle, { mode });
const test: { score: number; anomalous: boolean; readAs?: string }[] = [];
await evaluate(detector, { data: values.data, onImage: (s) => test.push({ score: s.score, anomalous: s.anomalous, ...(s.readAs !== undefined ? { readAs: s.readAs } : {}) }), progressSink: quiet, log: quiet });
await detector.close();
const good = test.filter((t) => !t.anomalous);
const bad = test.filter((t) => t.anomalous);

console.log(`bundle ${m.version}, mode ${mode}; pseudo-validation: ${normals.length} held-out normals, ${anomalies.length} synthesized anomalies; real test: ${good.length} good, ${bad.length} defective`);
console.log("rule                          threshold   test false alarms   test misses   pseudo F1   FA ratio   miss ratio (vs normal-quantile)");
let ref: { fa: number; miss: number } | undefined;
const samples = set.map((f, i) => ({ cls: f.cls, anomalous: f.anomalous, score: scores[i]! }));
for (const rule of THRESHOLD_RULES) {
  const params = { ...config.threshold, rule };
  const t = calibrateThreshold(params, normals, anomalies);
  const classes = withClassThresholds({ ...params, perClass: true }, mode, t, samples).classes;
  for (const perClass of [false, true]) {
    if (perClass && !classes) continue;
    const thresholdOf = (x: { readAs?: string }) => (perClass && x.readAs !== undefined ? classes?.[x.readAs]?.value : undefined) ?? t.value;
    const fa = good.filter((g) => g.score > thresholdOf(g)).length / good.length;
    const miss = bad.filter((b) => b.score <= thresholdOf(b)).length / bad.length;
    ref ??= { fa, miss };
    const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? "1.00" : "∞") : (a / b).toFixed(2));
    const shown = perClass ? `${Object.keys(classes!).length} classes` : t.value.toPrecision(5);
    console.log(`${(perClass ? `${rule} per class` : rule).padEnd(28)} ${shown.padStart(10)}   ${(100 * fa).toFixed(1).padStart(16)}%   ${(100 * miss).toFixed(1).padStart(10)}%   ${(perClass ? "" : t.pseudo!.f1.toFixed(3)).padStart(9)}   ${ratio(fa, ref.fa).padStart(8)}   ${ratio(miss, ref.miss).padStart(10)}`);
  }
}
