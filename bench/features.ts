/**
 * bench:features — per-frame cost of the detector core on a 224×224 frame:
 * backbone, feature editing, coreset search (ONNX MatMul+TopK, FAISS, and a
 * brute-force TypeScript search as the reference), plus coreset build time.
 * Usage: node dist/bench/features.js [BUNDLE]   (default: fits the demo set into a temp folder)
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBundle, bytesToFloat32 } from "../src/model/bundle.js";
import { BackboneRunner, sessionOptions } from "../src/model/backbone-runner.js";
import { OnnxKnn } from "../src/model/memory/onnx-knn.js";
import { FaissIndex } from "../src/model/memory/faiss-index.js";
import { bruteForceKnn } from "../src/model/memory/brute-force-knn.js";
import { editFeatures } from "../src/model/memory/editing.js";
import { anomalyMap, gaussianBlur, resizeBilinear } from "../src/model/scoring/anomaly-map.js";
import { greedyCoresetAsync } from "../src/model/memory/coreset.js";
import { standardizeInPlace, toRows } from "../src/model/feature-stats.js";
import { fitModel } from "../src/pipeline/fit.js";
import { parseModelConfig } from "../src/model/model-config.js";
import { synthesizeDataset } from "../src/image/synth/index.js";
import { createRng } from "../src/util/random.js";
import { buildBackboneOnnx } from "../src/model/backbone/index.js";
import { defaultCacheDir } from "../src/cli/commands/fit.js";
import { frameFitOf } from "../src/image/geometry.js";

const REPS = 25;

async function median(fn: () => unknown | Promise<unknown>, reps = REPS): Promise<number> {
  await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function main(): Promise<void> {
  let bundleDir = process.argv[2];
  if (!bundleDir) {
    const dir = await mkdtemp(join(tmpdir(), "lafite-bench-"));
    await synthesizeDataset({ out: join(dir, "demo"), seed: 1 });
    bundleDir = join(dir, "bundle");
    await fitModel({ data: join(dir, "demo"), out: bundleDir, config: parseModelConfig({}), cacheDir: defaultCacheDir(), log: () => {}, progressSink: () => {} });
  }
  const bundle = await readBundle(bundleDir);
  const m = bundle.manifest;
  const { c, h, w } = m.features;
  const n = m.memory.coresetSize;
  const hw = h * w;
  const opts = sessionOptions("cpu", 2);
  const backbone = await BackboneRunner.open(bundle.file(m.backbone.file), m.backbone.inputSize, opts, frameFitOf(m.backbone));
  const S = m.backbone.inputSize;
  const rng = createRng(7);
  const frame = Float32Array.from({ length: 3 * S * S }, () => 255 * rng.next());
  const coreset = bytesToFloat32(bundle.file(m.memory.vectorsFile));
  const stats = { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) };
  const [x] = await backbone.run(frame, 1);
  standardizeInPlace(x!, stats);
  const rows = toRows(x!);
  const K = m.scoring.k;

  const tBackbone = await median(() => backbone.run(frame, 1));
  const onnx1 = await OnnxKnn.create(coreset, n, c, 1, opts);
  const onnxK = await OnnxKnn.create(coreset, n, c, K, opts);
  const faiss = FaissIndex.fromBuffer(Buffer.from(bundle.file(m.memory.indexFile)), c, m.memory.indexType);
  const tOnnx1 = await median(() => onnx1.search(rows, hw));
  const tOnnxK = await median(() => onnxK.search(rows, hw));
  const tFaiss1 = await median(() => faiss.search(rows, hw, 1));
  const tFaissK = await median(() => faiss.search(rows, hw, K));
  const tBrute1 = await median(() => bruteForceKnn(coreset, n, rows, hw, c, 1), 5);
  const nn = await onnxK.search(rows, hw);
  const dist = nn.distances.map(Math.sqrt);
  const tEdit = await median(() => editFeatures(x!, nn.indices, dist, K, coreset, c));
  // Eq. 12's map: the banded product anomalyMap computes, against upsampling then blurring the S×S map (its reference).
  const sigma = m.scoring.sigma;
  const nearest = Float32Array.from({ length: hw }, (_, i) => dist[i * K]!);
  const tMap = await median(async () => anomalyMap(nearest, h, w, S, sigma));
  const tMapReference = await median(async () => gaussianBlur(resizeBilinear(nearest, w, h, S, S), S, S, sigma));

  // Coreset build: the same selection fit runs, on as many slices as this bundle's fit considered.
  const cand = m.memory.candidates;
  const feats = Float32Array.from({ length: cand * c }, () => rng.normal());
  const t0 = performance.now();
  await greedyCoresetAsync(feats, cand, c, n, { projectionDim: m.config.memory.projectionDim, seed: 0 });
  const tCoreset = performance.now() - t0;

  // The two embedded backbones at their probe stages, same session options: the latency half of the default choice.
  const archLatency: string[] = [];
  for (const spec of [
    { arch: "mobilenet_v2" as const, stages: ["block_2_add", "block_5_add", "block_9_add"], grid: 28, pool: 0 },
    { arch: "inception_v3" as const, stages: ["mixed2"], grid: 28, pool: 3 },
  ]) {
    const built = buildBackboneOnnx(spec);
    const runner = await BackboneRunner.open(built.onnx, built.inputSize, opts);
    const img = Float32Array.from({ length: 3 * built.inputSize * built.inputSize }, () => 255 * rng.next());
    archLatency.push(`${spec.arch}[${spec.stages.join("+")}] ${built.inputSize}px → ${built.channels}×28×28: ${(await median(() => runner.run(img, 1))).toFixed(2)} ms`);
    await runner.release();
  }

  const f = (v: number) => `${v.toFixed(2)} ms`;
  console.log(`bundle ${bundleDir}: ${m.backbone.name}, features ${c}×${h}×${w}, coreset ${n} of ${cand}, ${hw} queries/frame, K=${K}`);
  console.log(`median of ${REPS} runs per 224×224 frame (brute force: 5 runs)`);
  console.log(`backbone (ONNX, 2 threads)          ${f(tBackbone)}`);
  console.log(`coreset search k=1  ONNX MatMul+TopK ${f(tOnnx1)}`);
  console.log(`coreset search k=1  FAISS flat       ${f(tFaiss1)}`);
  console.log(`coreset search k=1  brute-force TS   ${f(tBrute1)}`);
  console.log(`coreset search k=${K}  ONNX MatMul+TopK ${f(tOnnxK)}`);
  console.log(`coreset search k=${K}  FAISS flat       ${f(tFaissK)}`);
  console.log(`feature editing (Eq. 10, K=${K})      ${f(tEdit)}`);
  console.log(`anomaly map ${S}×${S}, σ ${sigma}: banded ${f(tMap)}, upsample-then-blur ${f(tMapReference)} (ratio ${(tMapReference / tMap).toFixed(1)}×)`);
  console.log(`coreset build (greedy k-center, ${n} of ${cand} slices): ${(tCoreset / 1000).toFixed(2)} s (fit measured ${((m.provenance.timings.coreset ?? NaN) / 1000).toFixed(2)} s)`);
  for (const line of archLatency) console.log(`backbone ${line}`);
  console.log(`ratio FAISS / brute-force TS search: ${(tFaiss1 / tBrute1).toFixed(3)}`);
  console.log(`ratio ONNX / FAISS search:           ${(tOnnx1 / tFaiss1).toFixed(3)}`);
  await Promise.all([onnx1.release(), onnxK.release(), backbone.release()]);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
