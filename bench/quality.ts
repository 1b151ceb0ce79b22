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
 * Usage: npm run bench:quality -- [--data DIR | --scale F --seed S] [--config FILE]
 *          [--modes knn,edit-only,no-edit,lafite] [--no-tune] [--threads N] [--json FILE] [--keep DIR]
 *   --scale F   suite size as a fraction of the full one (default 0.1; 1 is the full ~1,500-train-image suite)
 *   --keep DIR  work in DIR (data set and bundle) and leave it there; default a temporary folder, removed after
 * Modes that need the diffusion model are skipped when the config has diffusion.preset none.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { synthesizeRealistic } from "../src/image/synth/realistic/index.js";
import { loadModelConfig } from "../src/model/model-config.js";
import { fitModel } from "../src/pipeline/fit.js";
import { loadDetector } from "../src/pipeline/load.js";
import { evaluate, type ClassMetrics } from "../src/eval/evaluate.js";
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
  },
});

const log = (m: string) => process.stderr.write(`${m}\n`);
const quiet = () => {};
const modes = (values.modes ?? "knn,edit-only,no-edit,lafite").split(",").map((m) => m.trim()) as ScoringMode[];
for (const m of modes) if (!SCORING_MODES.includes(m)) throw new Error(`unknown mode '${m}' (known: ${SCORING_MODES.join(", ")})`);
const threads = values.threads !== undefined ? { intraOpThreads: Number(values.threads) } : {};
const config = await loadModelConfig(values.config);
const runnable = modes.filter((m) => config.diffusion.preset !== "none" || !(DIFFUSION_MODES as readonly string[]).includes(m));
for (const m of modes) if (!runnable.includes(m)) log(`bench:quality: mode ${m} skipped (diffusion.preset is none)`);

const work = values.keep ?? (await mkdtemp(path.join(tmpdir(), "lafite-quality-")));
try {
  let data = values.data;
  let suite = `--data ${data}`;
  if (!data) {
    data = path.join(work, "data");
    const scale = Number(values.scale ?? 0.1);
    const seed = Number(values.seed ?? 0);
    const t0 = performance.now();
    const manifest = await synthesizeRealistic({ out: data, seed, scale, force: true });
    suite = `realistic suite, seed ${seed}, scale ${scale}: ${manifest.classes.map((c) => `${c.name} ${c.train}`).join(", ")} train images`;
    log(`bench:quality: generated ${manifest.totalImages} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const bundle = path.join(work, "bundle");
  const tFit = performance.now();
  await fitModel({ data, out: bundle, config, cacheDir: defaultCacheDir(), force: true, tune: !(values["no-tune"] ?? false), log, progressSink: quiet, ...threads });
  const fitSeconds = (performance.now() - tFit) / 1000;

  const results: Record<string, { classes: Record<string, ClassMetrics>; mean: ClassMetrics; latencyMs: { p50: number; p95: number; frames: number } }> = {};
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
      results[mode] = { classes: report.classes, mean: report.mean, latencyMs: { p50: q(0.5), p95: q(0.95), frames: times.length } };
      log(`bench:quality: ${mode} done (${report.seconds.toFixed(0)} s)`);
    } finally {
      await detector.close();
    }
  }

  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "   –" : (100 * v).toFixed(1).padStart(5));
  const classNames = Object.keys(results[runnable[0]!]?.classes ?? {});
  const head = ["class".padEnd(14), ...runnable.map((m) => `${m} img / pix / pro`.padStart(24))].join(" |");
  const lines = [`bench:quality — ${suite}; config ${values.config ?? "defaults"}; AUROC and AUPRO in %`, head, "-".repeat(head.length)];
  const row = (name: string, pick: (m: string) => ClassMetrics | undefined) =>
    [name.padEnd(14), ...runnable.map((m) => {
      const c = pick(m);
      return `${pct(c?.image_auroc)} / ${pct(c?.pixel_auroc)} / ${pct(c?.pixel_aupro)}`.padStart(24);
    })].join(" |");
  for (const name of classNames) lines.push(row(name, (m) => results[m]!.classes[name]));
  lines.push("-".repeat(head.length), row("mean", (m) => results[m]!.mean));
  lines.push(["latency ms".padEnd(14), ...runnable.map((m) => `p50 ${results[m]!.latencyMs.p50.toFixed(0)} p95 ${results[m]!.latencyMs.p95.toFixed(0)}`.padStart(24))].join(" |"));
  lines.push(`fit: ${fitSeconds.toFixed(0)} s (${values.config ? `config ${values.config}` : "default config"}${values["no-tune"] ? ", no tuning" : ", with tuning"}); latency: the detector's scoreImage per frame, decoded frame in, score and map out`);
  console.log(lines.join("\n"));
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify({ suite, config: values.config ?? null, tuned: !(values["no-tune"] ?? false), fitSeconds, modes: results }, null, 2)}\n`);
  }
} finally {
  if (!values.keep) await rm(work, { recursive: true, force: true });
}
