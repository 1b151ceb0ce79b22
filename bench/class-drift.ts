/**
 * Drift of one class in a big unified model, and what the memory-bank
 * refresh does about it (issue 10 session 10).
 *
 * A knn model is fitted on the whole suite (default memory settings, no
 * diffusion; a full realistic suite fills the bank to memory.maxCoresetSize).
 * One class's images are shifted (sharp: gain, offset, optional blur), its
 * first N shifted train/good frames are accepted (class-tagged), and
 * refreshMemoryBank runs once per memory.refreshHeadroom value (default 0,
 * as before the key: no room past the cap, and 0.25, the default). Reports,
 * on the shifted class's test set: false alarms on good frames and image
 * AUROC before and after, the rows added, and the slices beyond the radius.
 *
 * Usage: node dist/bench/class-drift.js WORKDIR --data SUITE --class NAME
 *          [--accepted 20] [--gain 0.85] [--offset 0] [--blur 0]
 *          [--headroom 0,0.25] [--bundle B] [--retrain] [--gate] [--eval-all]
 *          [--accept-defect TYPE] [--gate-logical 0,0.5]
 * --gain and --offset take one value or r,g,b; --bundle reuses a bundle
 * fitted on SUITE instead of fitting a knn one (a lafite bundle for
 * --retrain: refresh → retrain of the U-Net, as the nightly jobs run);
 * --eval-all also scores the whole suite as fitted (the other classes, after
 * a consolidation dropped rows); --gate runs the promotion gate on every candidate against its parent,
 * with 10 more shifted good frames held out and 3 confirmed shifted defects.
 *
 * --accept-defect TYPE is the operator's mistake instead of drift: the
 * class's test/TYPE frames (unshifted; at most --accepted of them) are
 * accepted as normal, for example missing parts. The gate's confirmed
 * defects then leave TYPE out (nobody confirmed one), so only its other
 * checks can refuse the candidate; --gate-logical 0,0.5 runs the gate once
 * per tuning.logical share of its pseudo-validation set (the active
 * bundle's config is edited in a copy), to show whether logical anomalies
 * let it see the lost sensitivity.
 */
import { copyFile, cp, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { refreshMemoryBank, retrainDiffusion } from "../src/lifecycle/jobs/index.js";
import { runGate } from "../src/lifecycle/gate.js";
import { pipelineBundleScorer } from "../src/lifecycle/bundle-scorer.js";
import { makePseudoValidationAuroc } from "../src/lifecycle/pseudo-validation.js";
import { sha256 } from "../src/model/bundle.js";
import { parseModelConfig } from "../src/model/model-config.js";
import { fitModel } from "../src/pipeline/fit.js";
import { silentLogger } from "../src/util/log.js";
import { measure } from "../test/lifecycle/jobs/support.js";
import type { AcceptedFrame } from "../src/lifecycle/jobs/types.js";

const dir = process.argv[2];
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const data = arg("data");
const cls = arg("class");
if (!dir || !data || !cls) throw new Error("usage: node dist/bench/class-drift.js WORKDIR --data SUITE --class NAME [--accepted 20] [--gain 0.85] [--offset 0] [--blur 0] [--bundle B]");
const nAccepted = Number(arg("accepted") ?? 20);
// One value, or one per channel (r,g,b) for a colour cast.
const gain = (arg("gain") ?? "0.85").split(",").map(Number);
const offset = (arg("offset") ?? "0").split(",").map(Number);
const blur = Number(arg("blur") ?? 0);
const quiet = () => {};

/** The class's images shifted into DIR/shifted/<class> (same layout; masks copied unchanged). */
async function shiftClass(src: string, dst: string): Promise<void> {
  for (const entry of await readdir(src, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(png|jpe?g|bmp)$/i.test(entry.name)) continue;
    const from = join(entry.parentPath, entry.name);
    const to = join(dst, from.slice(src.length));
    await mkdir(join(to, ".."), { recursive: true });
    if (from.includes("ground_truth")) {
      await copyFile(from, to);
      continue;
    }
    const channels = (await sharp(from).metadata()).channels ?? 3;
    // sharp takes one value, or one per channel for both gain and offset.
    const rgb = channels >= 3 && (gain.length === 3 || offset.length === 3);
    const expand = (v: number[]) => (v.length === 3 ? v : [v[0]!, v[0]!, v[0]!]);
    let img = rgb ? sharp(from).linear(expand(gain), expand(offset).map((o) => o * 255)) : sharp(from).linear(gain[0]!, offset[0]! * 255);
    if (blur >= 0.3) img = img.blur(blur);
    await img.png().toFile(to.replace(/\.(jpe?g|bmp)$/i, ".png"));
  }
}

const acceptDefect = arg("accept-defect");
const shifted = join(dir, "shifted");
let good: string;
let accepted: AcceptedFrame[];
if (acceptDefect) {
  // No drift: the class as it is, and defective frames accepted by mistake.
  await mkdir(shifted, { recursive: true });
  await symlink(join(data, cls), join(shifted, cls)).catch(() => {});
  good = join(data, cls, "train", "good");
  const wrong = join(data, cls, "test", acceptDefect);
  const files = (await readdir(wrong)).sort().slice(0, nAccepted);
  accepted = await Promise.all(files.map(async (f) => ({ path: join(wrong, f), sha256: sha256(await readFile(join(wrong, f))), classTag: cls })));
  console.log(`class ${cls}: ${accepted.length} ${acceptDefect} frames accepted as normal by mistake`);
} else {
  await shiftClass(join(data, cls), join(shifted, cls));
  good = join(shifted, cls, "train", "good");
  const files = (await readdir(good)).sort().slice(0, nAccepted);
  accepted = await Promise.all(files.map(async (f) => ({ path: join(good, f), sha256: sha256(await readFile(join(good, f))), classTag: cls })));
  console.log(`class ${cls} shifted (gain ${gain}, offset ${offset}, blur ${blur}); ${accepted.length} accepted shifted train/good frames`);
}

let base = arg("bundle");
if (!base) {
  base = join(dir, "knn-base");
  const t = performance.now();
  await fitModel({ data, out: base, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), log: quiet, progressSink: quiet, force: true });
  console.log(`fitted ${base} in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}
const fmt = (m: { falseAlarmRate: number; auroc: number }) => `FA ${(100 * m.falseAlarmRate).toFixed(1)}%  image AUROC ${(100 * m.auroc).toFixed(1)}`;
console.log(`base on the shifted class:            ${fmt(await measure(base, shifted))}`);
const original = join(dir, "original");
await mkdir(original, { recursive: true });
await symlink(join(data, cls), join(original, cls)).catch(() => {});
console.log(`base on the class as fitted:          ${fmt(await measure(base, original))}`);
if (process.argv.includes("--eval-all")) console.log(`base on the whole suite:              ${fmt(await measure(base, data))}`);
const candidates: { name: string; active: string; candidate: string }[] = [];
for (const headroom of (arg("headroom") ?? "0,0.25").split(",").map(Number)) {
  // A copy of the bundle with this refreshHeadroom in its config (what the refresh reads).
  const variant = join(dir, `bundle-headroom-${headroom}`);
  await cp(base, variant, { recursive: true });
  const manifestPath = join(variant, "manifest.json");
  const m = JSON.parse(await readFile(manifestPath, "utf8")) as { memory: { coresetSize: number }; config: { memory: Record<string, unknown> } };
  m.config.memory.refreshHeadroom = headroom;
  await writeFile(manifestPath, JSON.stringify(m, null, 2));
  const out = join(dir, `refreshed-headroom-${headroom}`);
  const t = performance.now();
  const { summary } = await refreshMemoryBank({ kind: "refresh", activeBundleDir: variant, outDir: out, accepted, signal: new AbortController().signal, progress: quiet, log: silentLogger() });
  const secs = (performance.now() - t) / 1000;
  candidates.push({ name: `refresh, headroom ${headroom}`, active: variant, candidate: out });
  const all = process.argv.includes("--eval-all") ? `; whole suite as fitted: ${fmt(await measure(out, data))}` : "";
  const consolidation = summary.consolidation as { dropped: number; addedKept: number } | undefined;
  const con = consolidation ? `, consolidated: ${consolidation.dropped} dropped, ${consolidation.addedKept} added rows kept` : "";
  console.log(`refresh, headroom ${headroom} (bank ${m.memory.coresetSize}, ceiling ${String(summary.bankCeiling)}; ${secs.toFixed(0)} s, +${String(summary.added)} rows, ${String(summary.stoppedBy)}; ${String(summary.slicesBeyondRadius)} slices beyond the radius ${Number(summary.coverageRadius).toFixed(2)}${con}): ${fmt(await measure(out, shifted))}${all}`);
}

if (process.argv.includes("--retrain")) {
  // The nightly pair on the default headroom: refresh, then retrain the U-Net (default budget) from the refreshed bundle.
  const last = candidates.at(-1)!;
  const out = join(dir, "refreshed-retrained");
  const t = performance.now();
  const { summary } = await retrainDiffusion({ kind: "retrain", activeBundleDir: last.candidate, outDir: out, accepted, signal: new AbortController().signal, progress: quiet, log: silentLogger() });
  console.log(`refresh → retrain (${((performance.now() - t) / 1000).toFixed(0)} s, ${String(summary.steps)} steps): ${fmt(await measure(out, shifted))}`);
  candidates.push({ name: "refresh → retrain", active: last.active, candidate: out });
}

if (process.argv.includes("--gate")) {
  // What the daemon's gate would see: 10 more shifted good frames held out of training, 3 confirmed shifted defects.
  // After the accepted frames, or from the first when the accepted ones are defects from the test set.
  const firstHeldOut = acceptDefect ? 0 : nAccepted;
  const holdoutFiles = (await readdir(good)).sort().slice(firstHeldOut, firstHeldOut + 10);
  // Nobody confirmed a defect of the type accepted by mistake.
  const defectDirs = (await readdir(join(shifted, cls, "test"))).filter((d) => d !== "good" && d !== acceptDefect).sort();
  const defects = (await Promise.all(defectDirs.map(async (d) => (await readdir(join(shifted, cls, "test", d))).sort().slice(0, 1).map((f) => join(shifted, cls, "test", d, f))))).flat().slice(0, 3);
  const acceptedHoldout = holdoutFiles.map((f) => ({ path: join(good, f), ref: f }));
  const shares = arg("gate-logical")?.split(",").map(Number);
  const gateRuns = candidates.flatMap((c) => (shares ?? [undefined]).map((share) => ({ ...c, share })));
  for (const c of gateRuns) {
    let active = c.active;
    if (c.share !== undefined) {
      // The gate builds its set from the active bundle's config: a copy with this share.
      active = join(dir, `gate-active-logical-${c.share}-${c.name.replace(/[^a-z0-9]+/gi, "-")}`);
      await cp(c.active, active, { recursive: true });
      const manifestPath = join(active, "manifest.json");
      const m = JSON.parse(await readFile(manifestPath, "utf8")) as { config: { tuning?: Record<string, unknown> } };
      m.config.tuning = { ...(m.config.tuning ?? {}), logical: c.share };
      await writeFile(manifestPath, JSON.stringify(m, null, 2));
    }
    const t = performance.now();
    const { decision: gate } = await runGate({
      activeDir: active,
      candidateDir: c.candidate,
      acceptedHoldout,
      defects: defects.map((path) => ({ path, ref: path.slice(shifted.length + 1) })),
      aurocTolerance: 0.01,
      scorer: pipelineBundleScorer,
      pseudoValidationAuroc: makePseudoValidationAuroc(null, { activeDir: active, acceptedNormals: acceptedHoldout }),
    });
    const label = c.share === undefined ? c.name : `${c.name}, pseudo-validation logical share ${c.share}`;
    console.log(`gate on ${label} (${((performance.now() - t) / 1000).toFixed(0)} s): ${gate.passed ? "PASSED" : "REFUSED"}`);
    for (const check of gate.checks) console.log(`   ${check}`);
  }
}
