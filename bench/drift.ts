/**
 * Drift and the lifecycle jobs at full demo size (issue 9 parts 3, 4, 8):
 *   normal demo (seed 1) → base model; shifted demo (seed 2) → the drift.
 *   Reports, on the shifted test set: false-alarm rate on good frames and
 *   mean image AUROC (good vs defective), for the base model, after
 *   refreshMemoryBank with N accepted shifted train/good frames, and for a
 *   full refit on the same images (normal train + the accepted frames);
 *   with --lafite also refresh → retrainDiffusion on a tiny-preset model.
 *   Times of the incremental refresh and of the full refit are printed
 *   with their ratio. Also: false alarms of the refreshed bank at the
 *   parent's threshold (coverage alone, without re-calibration).
 * Usage: node dist/bench/drift.js DIR [--accepted 20] [--no-knn] [--lafite [--preset tiny|cpu] [--epochs E] [--steps N]]
 */
import { mkdir, readdir, symlink } from "node:fs/promises";
import { basename, join } from "node:path";
import { synthesizeDataset } from "../src/image/synth/index.js";
import { refreshMemoryBank, retrainDiffusion } from "../src/lifecycle/jobs/index.js";
import { readBundle } from "../src/model/bundle.js";
import { fitModel } from "../src/pipeline/fit.js";
import { parseModelConfig } from "../src/model/model-config.js";
import { loadDetector } from "../src/pipeline/load.js";
import { evaluate } from "../src/eval/evaluate.js";
import { silentLogger } from "../src/util/log.js";
import { acceptedFrom } from "../test/lifecycle/jobs/support.js";
import type { ScoringMode } from "../src/model/types.js";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node dist/bench/drift.js DIR [--accepted 20] [--lafite] [--steps N]");
const flag = (name: string) => process.argv.indexOf(`--${name}`);
const nAccepted = flag("accepted") > 0 ? Number(process.argv[flag("accepted") + 1]) : 20;
const quiet = () => {};
const cache = join(dir, "cache");

async function measure(bundle: string, data: string, mode?: ScoringMode, threshold?: number) {
  const det = await loadDetector(bundle, mode ? { mode } : {});
  const good: number[] = [];
  const report = await evaluate(det, { data, log: quiet, progressSink: quiet, onImage: (s) => !s.anomalous && good.push(s.score) });
  const th = threshold ?? det.info.threshold;
  await det.close();
  return { fa: good.filter((s) => s > th).length / good.length, auroc: report.mean.image_auroc!, threshold: det.info.threshold, goodMedian: good.sort((a, b) => a - b)[good.length >> 1]! };
}
const fmt = (m: { fa: number; auroc: number; threshold: number; goodMedian: number }) => `FA ${(100 * m.fa).toFixed(1)}%  AUROC ${m.auroc.toFixed(4)}  threshold ${m.threshold.toFixed(3)}  median good score ${m.goodMedian.toFixed(3)}`;
const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
};
const ctx = (kind: "refresh" | "retrain", active: string, outDir: string, accepted: Awaited<ReturnType<typeof acceptedFrom>>, options?: Record<string, unknown>) => ({
  kind, activeBundleDir: active, outDir, accepted, signal: new AbortController().signal, progress: quiet, log: silentLogger(), ...(options ? { options } : {}),
});

const normal = join(dir, "normal");
const shifted = join(dir, "shifted");
await synthesizeDataset({ out: normal, seed: 1 });
await synthesizeDataset({ out: shifted, seed: 2, variant: "shifted" });
const accepted = await acceptedFrom(shifted, nAccepted);
console.log(`data: normal demo seed 1, shifted demo seed 2; ${accepted.length} accepted shifted train/good frames`);

// knn: base, incremental refresh, full refit on the same images.
if (flag("no-knn") < 0) await knnPart();
async function knnPart(): Promise<void> {
const knnCfg = { diffusion: { preset: "none" }, scoring: { mode: "knn" } };
const base = join(dir, "knn-base");
const [, fitSecs] = await time(() => fitModel({ data: normal, out: base, config: parseModelConfig(knnCfg), cacheDir: cache, log: quiet, progressSink: quiet, force: true }));
const mb = await measure(base, shifted);
console.log(`knn base (fit ${fitSecs.toFixed(1)} s):             ${fmt(mb)}`);
const refreshed = join(dir, "knn-refreshed");
const [res, refreshSecs] = await time(() => refreshMemoryBank(ctx("refresh", base, refreshed, accepted)));
const mr = await measure(refreshed, shifted);
const mrOld = await measure(refreshed, shifted, undefined, mb.threshold);
const s = res.summary;
console.log(`knn refresh (${refreshSecs.toFixed(1)} s, +${String(s.added)} rows, ${String(s.stoppedBy)}): ${fmt(mr)}`);
console.log(`   same bank at the base threshold: FA ${(100 * mrOld.fa).toFixed(1)}%`);
// Full refit: the normal train images plus the accepted frames in their classes' train/good.
const combined = join(dir, "combined");
for (const cls of await readdir(normal, { withFileTypes: true })) {
  if (!cls.isDirectory()) continue;
  const dst = join(combined, cls.name, "train", "good");
  await mkdir(dst, { recursive: true });
  for (const f of await readdir(join(normal, cls.name, "train", "good"))) await symlink(join(normal, cls.name, "train", "good", f), join(dst, f)).catch(() => {});
  for (const a of accepted.filter((x) => x.classTag === cls.name)) await symlink(a.path, join(dst, `accepted-${basename(a.path)}`)).catch(() => {});
}
const refit = join(dir, "knn-refit");
const [, refitSecs] = await time(() => fitModel({ data: combined, out: refit, config: parseModelConfig(knnCfg), cacheDir: cache, log: quiet, progressSink: quiet, force: true }));
const mf = await measure(refit, shifted);
const refitSize = (await readBundle(refit)).manifest.memory.coresetSize;
console.log(`knn full refit (${refitSecs.toFixed(1)} s, ${refitSize} rows):    ${fmt(mf)}`);
console.log(`incremental/full time ratio ${(refreshSecs / refitSecs).toFixed(3)}`);
}

if (flag("lafite") > 0) {
  const steps = flag("steps") > 0 ? Number(process.argv[flag("steps") + 1]) : undefined;
  const preset = flag("preset") > 0 ? process.argv[flag("preset") + 1]! : "tiny";
  const epochs = flag("epochs") > 0 ? { epochs: Number(process.argv[flag("epochs") + 1]) } : {};
  const lb = join(dir, `lafite-${preset}-base`);
  const [, lfit] = await time(() => fitModel({ data: normal, out: lb, config: parseModelConfig({ diffusion: { preset, ...epochs } }), cacheDir: cache, log: quiet, progressSink: quiet, force: true }));
  const lm = await measure(lb, shifted);
  const loss = ((await readBundle(lb)).manifest.metrics.diffusion as { finalLoss: number }).finalLoss;
  console.log(`lafite base (${preset} U-Net, final loss ${loss.toFixed(4)}, fit ${lfit.toFixed(1)} s):  ${fmt(lm)}`);
  const lr = join(dir, `lafite-${preset}-refreshed`);
  const [, lrs] = await time(() => refreshMemoryBank(ctx("refresh", lb, lr, accepted)));
  console.log(`lafite refresh (${lrs.toFixed(1)} s):           ${fmt(await measure(lr, shifted))}`);
  const lt = join(dir, `lafite-${preset}-retrained`);
  const [rt, lts] = await time(() => retrainDiffusion(ctx("retrain", lr, lt, accepted, steps ? { steps } : undefined)));
  console.log(`lafite refresh→retrain (${lts.toFixed(1)} s, ${String(rt.summary.steps)} steps): ${fmt(await measure(lt, shifted))}`);
  const lt2 = join(dir, `lafite-${preset}-retrained-only`);
  const [rt2, lts2] = await time(() => retrainDiffusion(ctx("retrain", lb, lt2, accepted, steps ? { steps } : undefined)));
  console.log(`lafite retrain only (${lts2.toFixed(1)} s, ${String(rt2.summary.steps)} steps): ${fmt(await measure(lt2, shifted))}  no-edit: ${fmt(await measure(lt2, shifted, "no-edit"))}`);
  console.log(`   base in no-edit: ${fmt(await measure(lb, shifted, "no-edit"))}`);
}
