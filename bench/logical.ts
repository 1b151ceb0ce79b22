/**
 * `npm run bench:logical`: are the synthesized logical anomalies
 * (`tuning.logical`, src/image/pseudo/logical.ts) seen by a model as the
 * real ones are?
 *
 * Pasted fragments are caught by fine feature stages whatever the layout,
 * so a pseudo-validation set of them cannot tell a setting that keeps a
 * logical class's sensitivity from one that loses it (issue 10: a fine-
 * stage bank that misses missing parts scored 100 on pasted anomalies).
 * A faithful logical anomaly is caught where, and only where, the real
 * missing or extra part is.
 *
 * For one class (--class, default assembly) of a data set (--data, e.g.
 * `lafite synth --suite realistic`): fits a knn model per stage set
 * (--stages, `;`-separated lists, default: the configured stages, and the
 * fine stages block_2_add,block_5_add alone), writes a pseudo-validation
 * set of logical anomalies only (--logical 1 by default) from the frames
 * the first model held out, and prints image AUROC per real defect type
 * (against the test set's good frames) and per synthesized kind, removed
 * or added (against the held-out frames), per model. Where the two agree,
 * the set can stand in for the real defects when settings are chosen.
 *
 * Usage: npm run bench:logical -- --data DIR [--class assembly] [--stages "a,b,c;a,b"] [--per-class 40] [--logical 1] [--seed 0] [--json FILE]
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultCacheDir } from "../src/cli/commands/fit.js";
import { auroc } from "../src/measures/metrics.js";
import { evaluate, type ImageScore } from "../src/eval/evaluate.js";
import { holdoutClasses } from "../src/image/pseudo/holdout.js";
import { writePseudoSet, PSEUDO_DEFECT } from "../src/dataset/pseudo-set.js";
import { parseModelConfig } from "../src/model/model-config.js";
import { fitModel } from "../src/pipeline/fit.js";
import { loadDetector } from "../src/pipeline/load.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    class: { type: "string" },
    stages: { type: "string" },
    "per-class": { type: "string" },
    logical: { type: "string" },
    seed: { type: "string" },
    json: { type: "string" },
  },
});
if (!values.data) throw new Error('usage: npm run bench:logical -- --data DIR [--class assembly] [--stages "a,b,c;a,b"] [--per-class 40] [--logical 1] [--seed 0] [--json FILE]');
const data = values.data;
const cls = values.class ?? "assembly";
const defaults = parseModelConfig({});
if (defaults.backbone.kind !== "builtin") throw new Error("the default backbone is builtin");
const stageSets = (values.stages ?? `${defaults.backbone.stages.join(",")};block_2_add,block_5_add`).split(";").map((s) => s.split(",").map((t) => t.trim()).filter(Boolean));
const perClass = Number(values["per-class"] ?? 40);
const logical = Number(values.logical ?? 1);
const seed = Number(values.seed ?? 0);
if (!(logical > 0 && logical <= 1)) throw new Error(`--logical ${values.logical}: a share above 0, at most 1`);
const log = (m: string) => process.stderr.write(`${m}\n`);
const quiet = () => {};

const work = await mkdtemp(path.join(tmpdir(), "bench-logical-"));
try {
  const bundles: string[] = [];
  for (const [i, stages] of stageSets.entries()) {
    const out = path.join(work, `model-${i}`);
    const config = parseModelConfig({ backbone: { stages }, diffusion: { preset: "none" }, scoring: { mode: "knn" }, seed });
    const t0 = performance.now();
    await fitModel({ data, out, config, cacheDir: defaultCacheDir(), classes: [cls], force: true, tune: false, log: quiet, progressSink: quiet });
    log(`bench:logical: fitted ${cls} on ${stages.join("+")} in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    bundles.push(out);
  }
  // The first model's held-out frames: every model holds out the same ones (same seed and data), and none has seen them.
  const manifest = JSON.parse(await readFile(path.join(bundles[0]!, "manifest.json"), "utf8")) as { provenance: { holdoutFiles?: string[] } };
  const held = holdoutClasses(manifest.provenance.holdoutFiles, data).filter((c) => c.name === cls);
  const pseudoDir = path.join(work, "pseudo");
  const record = await writePseudoSet({ classes: held, out: pseudoDir, seed, perClass, logical, progressSink: quiet });
  const kindOf = new Map(record.samples.map((s) => [`${s.name}.png`, s.logical?.kind ?? "pasted"]));

  /** AUROC of each group of anomalous frames against all good frames. */
  const byGroup = (scores: readonly ImageScore[], group: (s: ImageScore) => string) => {
    const good = scores.filter((s) => !s.anomalous).map((s) => s.score);
    const groups = new Map<string, number[]>();
    for (const s of scores.filter((x) => x.anomalous)) groups.set(group(s), [...(groups.get(group(s)) ?? []), s.score]);
    return Object.fromEntries(
      [...groups].sort(([a], [b]) => a.localeCompare(b)).map(([name, bad]) => [name, { count: bad.length, auroc: auroc([...bad, ...good], [...bad.map(() => 1), ...good.map(() => 0)]) }]),
    );
  };
  const rows: Record<string, unknown> = {};
  console.log(`bench:logical — ${data}, class ${cls}: image AUROC (%) of knn models per real defect type (test set) and per synthesized logical kind (${record.samples.length} anomalies at share ${logical} on ${held[0]?.images.length ?? 0} held-out frames)`);
  for (const [i, bundle] of bundles.entries()) {
    const detector = await loadDetector(bundle, {});
    try {
      const real: ImageScore[] = [];
      await evaluate(detector, { data, classes: [cls], onImage: (s) => real.push(s), progressSink: quiet, log: quiet });
      const synth: ImageScore[] = [];
      await evaluate(detector, { data: pseudoDir, classes: [cls], onImage: (s) => synth.push(s), progressSink: quiet, log: quiet });
      const realGroups = byGroup(real, (s) => s.defect);
      const synthGroups = byGroup(synth, (s) => (s.defect === PSEUDO_DEFECT ? kindOf.get(path.basename(s.path)) ?? "?" : s.defect));
      const fmt = (g: Record<string, { count: number; auroc: number }>) => Object.entries(g).map(([k, v]) => `${k} (${v.count}) ${(100 * v.auroc).toFixed(1)}`).join(", ");
      console.log(`  ${stageSets[i]!.join("+").padEnd(40)} real: ${fmt(realGroups)}   synthesized: ${fmt(synthGroups)}`);
      rows[stageSets[i]!.join("+")] = { real: realGroups, synthesized: synthGroups };
    } finally {
      await detector.close();
    }
  }
  if (values.json) await writeFile(values.json, JSON.stringify({ data, class: cls, logical, perClass, seed, models: rows }, null, 2));
} finally {
  await rm(work, { recursive: true, force: true });
}
