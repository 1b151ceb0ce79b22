/**
 * bench:lifecycle — what model administration costs the line, measured
 * through a real daemon (LafitedServer with its lifecycle on a temporary
 * dataDir, real grpc-js clients, a real bundle):
 *   1. AcceptNormal latency: by frame id (cache → PNG → fsync → commit) and
 *      by image (adds scoring), against DetectOne on the same frames;
 *   2. ActivateModel: time to load, check and swap a version, and the
 *      slowest frame answered during the swap;
 *   3. Detect latency while a job runs in its child process at the
 *      configured nice level (and at nice 0), against an idle daemon.
 *   4. with --real-bodies: the real refresh and retrain jobs (src/lifecycle/jobs/)
 *      on the accepted frames — wall time, gate decision, and Detect latency
 *      while each runs.
 * Prints ratios. Without --real-bodies the job body of part 3 is a
 * CPU-burning stand-in (bench/support/burn-job-bodies.ts).
 *
 * Usage: node dist/bench/lifecycle.js [--bundle DIR] [--frames N] [--real-bodies]
 *   --bundle DIR    bundle to serve (also LAFITED_BENCH_BUNDLE); default: one
 *                   fitted on one demo class (kNN; with --real-bodies lafite
 *                   mode with the tiny U-Net, which retrain needs)
 *   --frames N      frames per measurement (default 40)
 *   --real-bodies   also run the real refresh and retrain jobs
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config/load.js";
import { LafitedServer } from "../src/server/server.js";
import { LafitedClient } from "../src/server/client.js";
import { AdminClient } from "../src/server/admin-client.js";
import { lifecycleProvider } from "../src/server/lifecycle-provider.js";
import { Lifecycle } from "../src/lifecycle/lifecycle.js";
import { ChildJobLauncher, type JobLauncher } from "../src/lifecycle/job-launcher.js";
import { loadDetector } from "../src/pipeline/load.js";
import { filesOf, readBundle, writeBundle } from "../src/model/bundle.js";
import { JobKind, JobState } from "../src/gen/lafited/v1/admin_pb.js";
import { silentLogger } from "../src/util/log.js";

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(1).padStart(7)} ms  p95 ${pct(xs, 0.95).toFixed(1).padStart(7)} ms`;

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await f();
  return [performance.now() - t0, v];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { bundle: { type: "string" }, frames: { type: "string" }, "real-bodies": { type: "boolean" } } });
  const realBodies = values["real-bodies"] === true;
  const frames = Math.max(10, Number(values.frames ?? 40));
  const dir = await mkdtemp(join(tmpdir(), "lafite-bench-lc-"));
  try {
    let bundle = values.bundle ?? process.env.LAFITED_BENCH_BUNDLE;
    const demo = join(dir, "demo");
    const { synthesizeDataset } = await import("../src/image/synth/index.js");
    await synthesizeDataset({ out: demo, seed: 11, classes: ["hex_nut"], trainPerClass: 12, testGoodPerClass: Math.max(10, frames), testPerDefect: 1 });
    if (!bundle) {
      const { fitModel } = await import("../src/pipeline/fit.js");
      const { parseModelConfig } = await import("../src/model/model-config.js");
      const { defaultCacheDir } = await import("../src/cli/commands/fit.js");
      bundle = join(dir, "bundle");
      const modelConfig = realBodies ? { diffusion: { preset: "tiny", epochs: 3 } } : { scoring: { mode: "knn" }, diffusion: { preset: "none" } };
      await fitModel({ data: demo, out: bundle, config: parseModelConfig(modelConfig), cacheDir: defaultCacheDir(), log: () => {}, progressSink: () => {} });
    }
    const goodDir = join(demo, "hex_nut", "test", "good");
    const images = await Promise.all((await readdir(goodDir)).sort().map((f) => readFile(join(goodDir, f))));

    const dataDir = join(dir, "data");
    const stopFile = join(dir, "stop-burn");
    const base = loadConfig({ env: {} });
    const config = { ...base, listen: "127.0.0.1:0", dataDir, ledger: { ...base.ledger, dailyQuota: 0, scoreCeiling: 1e9 }, jobs: { ...base.jobs, retrain: { schedule: null, promotion: "manual" as const } } };
    const log = silentLogger();
    // The real child-process launcher, with a nice level the bench switches between runs.
    let nice = config.jobs.nice;
    let burn = true;
    const burnBodies = new URL("./support/burn-job-bodies.js", import.meta.url).href;
    const launcher: JobLauncher = {
      run: (spec, ...rest) => {
        // Part 3 uses the stand-in; part 4 the real bodies (./job-bodies.js, the runner's default).
        const { bodyModule: _b, ...real } = spec;
        return new ChildJobLauncher({ nice, logLevel: "warn", env: { ...process.env, LAFITED_BENCH_STOP: stopFile } }).run(burn ? { ...spec, bodyModule: burnBodies } : real, ...rest);
      },
    };
    const loadBundle = (d: string) => loadDetector(d, { executionProvider: config.model.executionProvider });
    const lifecycle = await Lifecycle.open({
      dataDir,
      config,
      log,
      launcher,
    });
    const server = new LafitedServer({ config, log, provider: lifecycleProvider(lifecycle, loadBundle, async () => bundle!), lifecycle: { lifecycle, loadBundle } });
    const port = await server.listen();
    const info = await server.loadModel();
    const address = `127.0.0.1:${port}`;
    const client = new LafitedClient(address);
    const admin = new AdminClient(address);
    console.log(`bench:lifecycle: model ${info.version} (${info.mode}, ${info.executionProvider}), ${images.length} distinct images, ${frames} frames per measurement, jobs.nice ${config.jobs.nice}`);
    try {
      const detect = async (i: number, id: string) => (await timed(() => client.detectOne({ frameId: id, image: { case: "encoded", value: images[i % images.length]! } })))[0];
      for (let i = 0; i < 5; i++) await detect(i, `warm-${i}`);

      // 1. Accept latency.
      const detectMs: number[] = [];
      const byIdMs: number[] = [];
      const byImageMs: number[] = [];
      const n = Math.min(frames, images.length);
      for (let i = 0; i < n; i++) detectMs.push(await detect(i, `f-${i}`));
      for (let i = 0; i < Math.floor(n / 2); i++) byIdMs.push((await timed(() => admin.acceptNormal({ frame: { source: { case: "frameId", value: `f-${i}` } } })))[0]);
      for (let i = Math.floor(n / 2); i < n; i++) byImageMs.push((await timed(() => admin.acceptNormal({ frame: { source: { case: "image", value: images[i]! } } })))[0]);
      console.log(`DetectOne            ${fmt(detectMs)}`);
      console.log(`AcceptNormal by id   ${fmt(byIdMs)}   ratio to DetectOne p50 ${(pct(byIdMs, 0.5) / pct(detectMs, 0.5)).toFixed(3)}`);
      console.log(`AcceptNormal by img  ${fmt(byImageMs)}   ratio to DetectOne p50 ${(pct(byImageMs, 0.5) / pct(detectMs, 0.5)).toFixed(3)}`);

      // 2. Activation of a second version while a client keeps sending frames.
      const b = await readBundle(bundle);
      const { files: _f, ...m } = b.manifest;
      const v2 = `${m.version}-copy`;
      await writeBundle(lifecycle.registry.dirOf(v2), { ...m, version: v2 }, filesOf(b));
      lifecycle.registry.register({ version: v2, state: "candidate", reason: "bench", parent: m.version, jobId: null, dataSnapshot: {}, metrics: {} });
      let swapping = true;
      const during: number[] = [];
      const versions = new Set<string>();
      const traffic = (async () => {
        for (let i = 0; swapping; i++) {
          const t0 = performance.now();
          const r = await client.detectOne({ frameId: `s-${i}`, image: { case: "encoded", value: images[i % images.length]! } });
          during.push(performance.now() - t0);
          versions.add(r.modelVersion);
        }
      })();
      const [activateMs] = await timed(() => admin.activateModel({ version: v2 }));
      swapping = false;
      await traffic;
      console.log(`ActivateModel        ${activateMs.toFixed(1)} ms (load + check + swap); ${during.length} frames meanwhile, slowest ${Math.max(...during).toFixed(1)} ms = ${(Math.max(...during) / pct(detectMs, 0.5)).toFixed(2)}× idle p50; versions answered: ${[...versions].join(", ")}`);

      // 3. Detect latency while a job works in its child process.
      const idle: number[] = [];
      for (let i = 0; i < frames; i++) idle.push(await detect(i, `idle-${i}`));
      const underJob = async (level: number): Promise<number[]> => {
        await rm(stopFile, { force: true });
        nice = level;
        const job = await admin.runJob({ kind: JobKind.RETRAIN });
        // Wait until the child is busy (its first progress report).
        await new Promise<void>((resolve) => void admin.watchJob(job.id, (j) => (j.message.startsWith("burning") ? resolve() : undefined)).catch(() => undefined));
        const xs: number[] = [];
        for (let i = 0; i < frames; i++) xs.push(await detect(i, `job${level}-${i}`));
        await writeFile(stopFile, "");
        await admin.watchJob(job.id);
        return xs;
      };
      const niced = await underJob(config.jobs.nice);
      const plain = await underJob(0);
      console.log(`Detect, idle         ${fmt(idle)}`);
      console.log(`Detect, job nice ${String(config.jobs.nice).padEnd(3)} ${fmt(niced)}   p50 ratio to idle ${(pct(niced, 0.5) / pct(idle, 0.5)).toFixed(3)}, p95 ratio ${(pct(niced, 0.95) / pct(idle, 0.95)).toFixed(3)}`);
      console.log(`Detect, job nice 0   ${fmt(plain)}   p50 ratio to idle ${(pct(plain, 0.5) / pct(idle, 0.5)).toFixed(3)}, p95 ratio ${(pct(plain, 0.95) / pct(idle, 0.95)).toFixed(3)}`);
      console.log("Part 3's job body is a CPU-burning stand-in on one core.");

      // 4. The real jobs, on the frames accepted in part 1.
      if (realBodies) {
        burn = false;
        nice = config.jobs.nice;
        const idleP50 = pct(idle, 0.5);
        for (const [name, kind] of [["refresh", JobKind.REFRESH], ["retrain", JobKind.RETRAIN]] as const) {
          const t0 = performance.now();
          const job = await admin.runJob({ kind });
          let running = true;
          const finished = admin.watchJob(job.id).finally(() => (running = false));
          const xs: number[] = [];
          for (let i = 0; running; i++) xs.push(await detect(i, `${name}-${i}`));
          const end = await finished;
          const secs = (performance.now() - t0) / 1000;
          const gate = end.gateResult.case === "gate" ? (end.gateResult.value.passed ? "passed" : "failed") : "-";
          console.log(`${name.padEnd(8)} job     ${secs.toFixed(1)} s, ${end.state === JobState.SUCCEEDED ? "succeeded" : `ended in state ${end.state}: ${end.message}`}, gate ${gate}, decision: ${end.decision || "-"}`);
          if (xs.length > 0) console.log(`Detect during ${name.padEnd(7)}${fmt(xs)}   p50 ratio to idle ${(pct(xs, 0.5) / idleP50).toFixed(3)}, p95 ratio ${(pct(xs, 0.95) / pct(idle, 0.95)).toFixed(3)} (${xs.length} frames)`);
        }
        // The refresh ÷ full refit time and AUROC at demo size: the drift bench, with 50 accepted frames.
        console.log("incremental refresh against a full refit (bench/drift.ts, 50 accepted shifted frames):");
        const drift = spawnSync(process.execPath, [fileURLToPath(new URL("./drift.js", import.meta.url)), join(dir, "drift"), "--accepted", "50"], { encoding: "utf8" });
        process.stdout.write(drift.stdout);
        if (drift.status !== 0) console.log(`bench/drift.js failed (${drift.status}): ${drift.stderr.split("\n").slice(-3).join(" ")}`);
      } else {
        console.log("(--real-bodies runs the real refresh and retrain jobs, and the refresh ÷ full-refit time and AUROC)");
      }
    } finally {
      client.close();
      admin.close();
      await server.shutdown(5000);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
