/**
 * `npm run bench:quality`: how well the default configuration detects and
 * localizes defects on the realistic suite (`lafite synth --suite
 * realistic`), the benchmark that decides what to change next; the demo
 * data set is too easy to tell modes apart. Generates the suite (or takes
 * --data), fits ONE unified model with the default config (or --config),
 * evaluates it in each scoring mode, and prints per class and mean image
 * AUROC, pixel AUROC and pixel AUPRO per mode, with fit time and per-frame
 * scoring latency. --json FILE writes the same figures.
 *
 * One fit's figures move by a few points with the fit's own seed (which
 * slices win coreset rows, the U-Net's initialization): --fit-seeds 0,1
 * fits once per seed and prints each table, their mean and their spread
 * (max − min), so a change can be told from that noise.
 *
 * Usage: npm run bench:quality -- [--data DIR | --scale F --seed S [--with kit]] [--config FILE] [--fit-seeds 0,1,...]
 *          [--modes knn,edit-only,no-edit,lafite] [--no-tune] [--threads N] [--json FILE] [--keep DIR]
 *   --scale F   suite size as a fraction of the full one (default 0.1; 1 is the full ~1,500-train-image suite)
 *   --seed S    the suite's generation seed; --fit-seeds the model config's seed per fit (default: the config's own)
 *   --with C    add optional realistic classes (comma-separated: kit, the mixed-batch logical class; glass_plate, the backlit glass part) to the six
 *   --keep DIR  work in DIR (data set and bundle) and leave it there; default a temporary folder, removed after
 * Modes that need the diffusion model are skipped when the config has diffusion.preset none.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { REALISTIC_CLASSES, synthesizeRealistic } from "../src/image/synth/realistic/index.js";
import { loadModelConfig, type ModelConfig } from "../src/model/model-config.js";
import { fitModel } from "../src/pipeline/fit.js";
import { loadDetector } from "../src/pipeline/load.js";
import { evaluate, type ClassMetrics } from "../src/eval/evaluate.js";
import type { DefectMetrics } from "../src/eval/by-defect.js";
import { defaultCacheDir } from "../src/cli/commands/fit.js";
import { SCORING_MODES, DIFFUSION_MODES } from "../src/model/types.js";
import type { ScoringMode } from "../src/pipeline/types.js";

const { values } = parseArgs({
  options: {
    data: { type: "string" },
    scale: { type: "string" },
    seed: { type: "string" },
    config: { type: "string" },
    modes: { type: "string" },
    "no-tune": { type: "boolean" },
    threads: { type: "string" },
    json: { type: "string" },
    keep: { type: "string" },
    "fit-seeds": { type: "string" },
    with: { type: "string" },
  },
});

const log = (m: string) => process.stderr.write(`${m}\n`);
const quiet = () => {};
const modes = (values.modes ?? "knn,edit-only,no-edit,lafite").split(",").map((m) => m.trim()) as ScoringMode[];
for (const m of modes) if (!SCORING_MODES.includes(m)) throw new Error(`unknown mode '${m}' (known: ${SCORING_MODES.join(", ")})`);
const threads = values.threads !== undefined ? { intraOpThreads: Number(values.threads) } : {};
const config = await loadModelConfig(values.config);
const fitSeeds = values["fit-seeds"] !== undefined ? values["fit-seeds"].split(",").map((v) => Number(v.trim())) : [config.seed];
if (fitSeeds.some((s) => !Number.isInteger(s)) || new Set(fitSeeds).size !== fitSeeds.length) throw new Error(`--fit-seeds takes distinct integers separated by commas (got '${values["fit-seeds"]}')`);
const runnable = modes.filter((m) => config.diffusion.preset !== "none" || !(DIFFUSION_MODES as readonly string[]).includes(m));
for (const m of modes) if (!runnable.includes(m)) log(`bench:quality: mode ${m} skipped (diffusion.preset is none)`);

const work = values.keep ?? (await mkdtemp(path.join(tmpdir(), "lafite-quality-")));
try {
  let data = values.data;
  let suite = `--data ${data}`;
  if (data && values.with !== undefined) throw new Error("--with adds classes to the generated suite; with --data, generate it with lafite synth --class instead");
  if (!data) {
    data = path.join(work, "data");
    const scale = Number(values.scale ?? 0.1);
    const seed = Number(values.seed ?? 0);
    const t0 = performance.now();
    const extra = values.with !== undefined ? values.with.split(",").map((c) => c.trim()) : [];
    const classes = extra.length ? { classes: [...REALISTIC_CLASSES.map((c) => c.name), ...extra] } : {};
    const manifest = await synthesizeRealistic({ out: data, seed, scale, force: true, ...classes });
    suite = `realistic suite, seed ${seed}, scale ${scale}: ${manifest.classes.map((c) => `${c.name} ${c.train}`).join(", ")} train images`;
    log(`bench:quality: generated ${manifest.totalImages} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const tuned = !(values["no-tune"] ?? false);
  const fits: FitResult[] = [];
  for (const seed of fitSeeds) {
    // One seed keeps the old layout (<work>/bundle); several get a bundle each.
    const bundle = path.join(work, fitSeeds.length > 1 ? `bundle-seed${seed}` : "bundle");
    if (fitSeeds.length > 1) log(`bench:quality: fit ${fits.length + 1} of ${fitSeeds.length}, seed ${seed}`);
    fits.push(await fitAndEvaluate(data, { ...config, seed }, bundle, tuned));
  }

  const how = `${values.config ? `config ${values.config}` : "default config"}${tuned ? ", with tuning" : ", no tuning"}`;
  const latencyNote = "latency: the detector's scoreImage per frame, decoded frame in, score and map out";
  const out: string[] = [];
  for (const f of fits) {
    out.push(...table(`bench:quality — ${suite}; ${fits.length > 1 ? `fit seed ${f.seed}; ` : ""}config ${values.config ?? "defaults"}; AUROC and AUPRO in %`, f.modes, true));
    out.push(`fit: ${f.fitSeconds.toFixed(0)} s (${how}); ${latencyNote}`, "");
  }
  let summary: { modes: Record<string, ModeResult>; spread: Record<string, ModeResult>; fitSeconds: number } | undefined;
  if (fits.length > 1) {
    summary = {
      modes: combine(fits, mean),
      spread: combine(fits, (vs) => Math.max(...vs) - Math.min(...vs)),
      fitSeconds: mean(fits.map((f) => f.fitSeconds)),
    };
    out.push(...table(`bench:quality — mean of ${fits.length} fits (seeds ${fitSeeds.join(", ")}); AUROC and AUPRO in %`, summary.modes, true));
    out.push(`fit: ${summary.fitSeconds.toFixed(0)} s on average (${how}); ${latencyNote}`, "");
    out.push(...table(`bench:quality — spread (max − min) over the ${fits.length} fits, in points: a change smaller than this is noise`, summary.spread, false));
  }
  console.log(out.join("\n").trimEnd());
  if (values.json) {
    const base = { suite, config: values.config ?? null, tuned, fitSeeds };
    const json = summary
      ? { ...base, fitSeconds: summary.fitSeconds, modes: summary.modes, spread: summary.spread, fits }
      : { ...base, fitSeconds: fits[0]!.fitSeconds, modes: fits[0]!.modes };
    await writeFile(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true });
}

interface ModeResult {
  classes: Record<string, ClassMetrics>;
  mean: ClassMetrics;
  latencyMs: { p50: number; p95: number; frames: number };
  /** Over all classes, at the served thresholds (eval's verdicts): defects caught, good images flagged NG, frames read as another class. */
  verdicts: { defects: number; caught: number; good: number; flagged: number; misread: number };
  /** Per class, each defect type against the class's good images (eval's defects). */
  defects: Record<string, Record<string, DefectMetrics>>;
}

interface FitResult {
  seed: number;
  fitSeconds: number;
  modes: Record<string, ModeResult>;
}

/** Fits `config` on `data` into `bundle`, then evaluates every runnable mode, timing the detector's own work per frame. */
async function fitAndEvaluate(data: string, config: ModelConfig, bundle: string, tune: boolean): Promise<FitResult> {
  const tFit = performance.now();
  await fitModel({ data, out: bundle, config, cacheDir: defaultCacheDir(), force: true, tune, log, progressSink: quiet, ...threads });
  const fitSeconds = (performance.now() - tFit) / 1000;
  const modes: Record<string, ModeResult> = {};
  for (const mode of runnable) {
    const detector = await loadDetector(bundle, { mode, ...threads });
    // Time the detector's own work per frame (features → score map), not file reading or metric bookkeeping.
    const times: number[] = [];
    const score = detector.scoreImage.bind(detector);
    detector.scoreImage = async (...args: Parameters<typeof score>) => {
      const t = performance.now();
      const r = await score(...args);
      times.push(performance.now() - t);
      return r;
    };
    try {
      const report = await evaluate(detector, { data, progressSink: quiet, log });
      times.sort((a, b) => a - b);
      const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
      const { defects, caught, good, flagged, misread } = report.verdicts.all;
      modes[mode] = { classes: report.classes, mean: report.mean, latencyMs: { p50: q(0.5), p95: q(0.95), frames: times.length }, verdicts: { defects, caught, good, flagged, misread }, defects: report.defects };
      log(`bench:quality: ${mode} done (${report.seconds.toFixed(0)} s)`);
    } finally {
      await detector.close();
    }
  }
  return { seed: config.seed, fitSeconds, modes };
}

function mean(vs: readonly number[]): number {
  return vs.reduce((a, b) => a + b, 0) / vs.length;
}

/** Every metric (and latency) of every mode and class, reduced over the fits by `reduce`; null where any fit has none. */
function combine(fits: readonly FitResult[], reduce: (vs: number[]) => number): Record<string, ModeResult> {
  const metrics = (pick: (f: FitResult) => ClassMetrics | undefined): ClassMetrics => {
    const got = fits.map(pick);
    const field = (k: keyof ClassMetrics) => {
      const vs = got.map((c) => c?.[k]);
      return vs.every((v): v is number => typeof v === "number") ? reduce(vs) : null;
    };
    return { image_auroc: field("image_auroc"), pixel_auroc: field("pixel_auroc"), image_ap: field("image_ap"), pixel_ap: field("pixel_ap"), pixel_aupro: field("pixel_aupro") };
  };
  const out: Record<string, ModeResult> = {};
  for (const mode of Object.keys(fits[0]!.modes)) {
    const classes: Record<string, ClassMetrics> = {};
    for (const cls of Object.keys(fits[0]!.modes[mode]!.classes)) classes[cls] = metrics((f) => f.modes[mode]?.classes[cls]);
    const lat = (k: "p50" | "p95") => reduce(fits.map((f) => f.modes[mode]!.latencyMs[k]));
    const count = (k: "caught" | "flagged" | "misread") => reduce(fits.map((f) => f.modes[mode]!.verdicts[k]));
    const { defects, good } = fits[0]!.modes[mode]!.verdicts;
    const byDefect: Record<string, Record<string, DefectMetrics>> = {};
    for (const [cls, types] of Object.entries(fits[0]!.modes[mode]!.defects)) {
      byDefect[cls] = {};
      for (const [defect, first] of Object.entries(types)) {
        const pick = (f: FitResult) => f.modes[mode]?.defects[cls]?.[defect];
        const { image_auroc, pixel_auroc, pixel_ap, pixel_aupro } = metrics((f) => asClassMetrics(pick(f)));
        byDefect[cls][defect] = { images: first.images, caught: reduce(fits.map((f) => pick(f)?.caught ?? NaN)), image_auroc, pixel_auroc, pixel_ap, pixel_aupro };
      }
    }
    out[mode] = {
      classes,
      mean: metrics((f) => f.modes[mode]?.mean),
      latencyMs: { p50: lat("p50"), p95: lat("p95"), frames: fits[0]!.modes[mode]!.latencyMs.frames },
      verdicts: { defects, caught: count("caught"), good, flagged: count("flagged"), misread: count("misread") },
      defects: byDefect,
    };
  }
  return out;
}

/** A defect type's figures in a class row's shape (it has no image AP), so the table and the reduction over fits treat both alike. */
function asClassMetrics(d: DefectMetrics | undefined): ClassMetrics | undefined {
  return d && { image_auroc: d.image_auroc, pixel_auroc: d.pixel_auroc, image_ap: null, pixel_ap: d.pixel_ap, pixel_aupro: d.pixel_aupro };
}

/** The per-class and mean table of one set of mode results (values 0–1 printed as %), with latency when asked. */
function table(title: string, results: Record<string, ModeResult>, latency: boolean): string[] {
  const shown = Object.keys(results);
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "   –" : (100 * v).toFixed(1).padStart(5));
  const classNames = Object.keys(results[shown[0]!]?.classes ?? {});
  const NAME = 16; // "  contamination": a defect type under its class
  const COL = 28; // wide enough for a mean over fits' verdict counts ("caught 90.7/160 FA 2.7/117")
  const head = ["class".padEnd(NAME), ...shown.map((m) => `${m} img / pix / pro`.padStart(COL))].join(" |");
  const lines = [title, head, "-".repeat(head.length)];
  const row = (name: string, pick: (m: string) => ClassMetrics | undefined) =>
    [name.padEnd(NAME), ...shown.map((m) => {
      const c = pick(m);
      return `${pct(c?.image_auroc)} / ${pct(c?.pixel_auroc)} / ${pct(c?.pixel_aupro)}`.padStart(COL);
    })].join(" |");
  for (const name of classNames) {
    lines.push(row(name, (m) => results[m]!.classes[name]));
    // Then each of its defect types against its good images: which kind of defect the class's figure hides.
    for (const defect of Object.keys(results[shown[0]!]?.defects[name] ?? {})) {
      lines.push(row(`  ${defect}`.slice(0, NAME), (m) => asClassMetrics(results[m]!.defects[name]?.[defect])));
    }
  }
  lines.push("-".repeat(head.length), row("mean", (m) => results[m]!.mean));
  // Counts at the served thresholds: defects judged NG, good images judged NG (false alarms); a mean over fits may be fractional.
  const n = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
  const verdicts = (m: string) => {
    const v = results[m]!.verdicts;
    return (latency ? `caught ${n(v.caught)}/${v.defects} FA ${n(v.flagged)}/${v.good}` : `caught ${n(v.caught)} FA ${n(v.flagged)}`).padStart(COL);
  };
  lines.push(["verdicts".padEnd(NAME), ...shown.map(verdicts)].join(" |"));
  // Frames read as another class than their own: what model.classTagMismatch: ng would reject on a line that sends its recipe.
  if (latency) lines.push(["misread class".padEnd(NAME), ...shown.map((m) => `${n(results[m]!.verdicts.misread)}/${results[m]!.verdicts.defects + results[m]!.verdicts.good}`.padStart(COL))].join(" |"));
  if (latency) lines.push(["latency ms".padEnd(NAME), ...shown.map((m) => `p50 ${results[m]!.latencyMs.p50.toFixed(0)} p95 ${results[m]!.latencyMs.p95.toFixed(0)}`.padStart(COL))].join(" |"));
  return lines;
}
