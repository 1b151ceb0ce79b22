/**
 * bench:backbone — ONNX Runtime CPU latency of the embedded backbones per
 * single frame (intraOpNumThreads 2), with their default stages: the full
 * feature graph (stages + 3×3 pooling + resize to 28×28 + concat) and the
 * bare stage outputs, so the head's share shows as a ratio.
 * Usage: node dist/bench/backbone.js [REPS]   (default 25, median after one warm-up)
 */
import * as ort from "onnxruntime-node";
import { sessionOptions } from "../src/model/backbone-runner.js";
import { buildBackboneOnnx, buildStageOutputsOnnx, type BackboneSpec } from "../src/model/backbone/index.js";

const REPS = Math.max(20, Number(process.argv[2] ?? 25) || 25);
const GRID = 28;
const POOL = 3;

const SPECS: BackboneSpec[] = [
  { arch: "mobilenet_v2", stages: ["block_5_add", "block_9_add", "block_10_project_BN"], grid: GRID, pool: POOL },
  { arch: "inception_v3", stages: ["mixed2"], grid: GRID, pool: POOL },
];

async function medianMs(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  await session.run(feeds); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1]!;
}

async function main(): Promise<void> {
  const opts = sessionOptions("cpu", 2);
  console.log(`ONNX Runtime CPU, intraOpNumThreads 2, batch 1, median of ${REPS} runs after warm-up`);
  const rows: { name: string; ms: number }[] = [];
  for (const spec of SPECS) {
    const t0 = performance.now();
    const built = buildBackboneOnnx(spec);
    const buildMs = performance.now() - t0;
    const S = built.inputSize;
    // A fixed pseudo-random frame in 0–255 (the value does not change the cost of these graphs).
    const frame = Float32Array.from({ length: 3 * S * S }, (_, i) => (i * 2654435761) % 256);
    const feeds = { image: new ort.Tensor("float32", frame, [1, 3, S, S]) };

    const full = await ort.InferenceSession.create(built.onnx, opts);
    const out = await full.run(feeds);
    const ms = await medianMs(full, feeds);
    await full.release();

    const bare = await ort.InferenceSession.create(buildStageOutputsOnnx(spec.arch, spec.stages, S), opts);
    const bareMs = await medianMs(bare, feeds);
    await bare.release();

    const name = `${spec.arch}[${spec.stages.join("+")}]`;
    rows.push({ name, ms });
    console.log(
      `${name.padEnd(58)} ${S}px → features [${out.features!.dims.join(", ")}] (stage channels ${built.stageChannels.join("+")}): ` +
        `${ms.toFixed(2)} ms/frame; stages alone ${bareMs.toFixed(2)} ms (head ×${(ms / bareMs).toFixed(2)}); ONNX ${(built.onnx.length / 1e6).toFixed(1)} MB built in ${buildMs.toFixed(0)} ms`,
    );
  }
  const [a, b] = rows;
  if (a && b) console.log(`${b.name} / ${a.name}: ×${(b.ms / a.ms).toFixed(2)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
