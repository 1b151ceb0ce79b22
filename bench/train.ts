/**
 * Training throughput of the diffusion U-Net (`npm run bench:train`).
 *
 * Prints samples/s of the `cpu` preset on random 28×28 features with c = 272,
 * the achieved GFLOP/s of the training step (conv and matmul FLOPs counted
 * analytically, forward × 3 for forward + backward), and the ratio to the
 * GFLOP/s of one large Conv (N=8, 256→256, 32×32, 3×3) in the same session
 * options — this machine's practical ceiling.
 *
 * Options: --preset cpu|tiny|paper, --steps N, --batch B, --threads T,
 * --ep cpu|cuda (cuda falls back to cpu, saying why; scripts/gpu-check.sh).
 * --c C: feature channels (default 272); --ceiling 0 skips the Conv ceiling (quick checks).
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder } from "../src/onnx/graph-builder.js";
import { diffusionPreset, type PresetName } from "../src/model/diffusion/config.js";
import { createRng, fillNormal } from "../src/model/diffusion/prng.js";
import { trainDiffusion } from "../src/model/diffusion/trainer.js";
import { paramCount, unetParamSpecs } from "../src/model/diffusion/unet.js";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}

/** GFLOP/s of one large Conv; `weightInput` feeds the weights as a graph input, as the training step does (no prepacking). */
async function convCeiling(threads: number, weightInput: boolean): Promise<number> {
  const g = new GraphBuilder("conv-ceiling");
  const x = g.input("x", DataType.FLOAT, [8, 256, 32, 32]);
  const rng = createRng(1);
  const wData = fillNormal(rng, new Float32Array(256 * 256 * 9));
  const w = weightInput ? g.input("w", DataType.FLOAT, [256, 256, 3, 3]) : g.initializer("w", wData, [256, 256, 3, 3]);
  const [y] = g.op("Conv", [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  g.output(y!, DataType.FLOAT, [8, 256, 32, 32], "y");
  const s = await ort.InferenceSession.create(g.toBytes(), { intraOpNumThreads: threads, graphOptimizationLevel: "all" });
  const feed: Record<string, ort.Tensor> = { x: new ort.Tensor("float32", fillNormal(rng, new Float32Array(8 * 256 * 1024)), [8, 256, 32, 32]) };
  if (weightInput) feed.w = new ort.Tensor("float32", wData, [256, 256, 3, 3]);
  for (let i = 0; i < 2; i++) await s.run(feed);
  const reps = 8;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await s.run(feed);
  const secs = (performance.now() - t0) / 1000 / reps;
  await s.release();
  return (2 * 8 * 256 * 1024 * 256 * 9) / secs / 1e9;
}

async function main(): Promise<void> {
  const preset = arg("preset", "cpu") as PresetName;
  const threads = Number(arg("threads", "2"));
  const shape = { c: Number(arg("c", "272")), h: 28, w: 28 };
  const ep = arg("ep", "cpu") === "cuda" ? "cuda" : "cpu";
  const base = diffusionPreset(preset);
  const batch = Number(arg("batch", String(base.batchSize)));
  const steps = Number(arg("steps", "30"));
  const warm = 3;
  const { params, macsPerSample } = unetParamSpecs(base.unet, shape);
  const rng = createRng(2);
  const features = Array.from({ length: 64 }, () => fillNormal(rng, new Float32Array(shape.c * shape.h * shape.w)));
  const cfg = diffusionPreset(preset, { batchSize: batch, maxSteps: warm + steps, epochs: 1000, intraOpNumThreads: threads, executionProvider: ep });
  const lines: string[] = [];
  // Time only the steps after a short warm-up (first calls allocate).
  let tWarm = 0;
  let tEnd = 0;
  const result = await trainDiffusion(features, shape, cfg, {
    log: (l) => lines.push(l),
    onStep: (s) => {
      if (s === warm) tWarm = performance.now();
      if (s === warm + steps) tEnd = performance.now();
    },
  });
  const samplesPerSec = (steps * batch) / ((tEnd - tWarm) / 1000);
  const trainGflop = (3 * 2 * macsPerSample) / 1e9; // per sample, forward + backward
  const achieved = samplesPerSec * trainGflop;
  const withCeiling = arg("ceiling", "1") !== "0";
  const ceiling = withCeiling ? await convCeiling(threads, false) : NaN;
  const ceilingIn = withCeiling ? await convCeiling(threads, true) : NaN;
  const out = [
    lines.find((l) => /execution provider/.test(l)) ?? `execution provider ${result.executionProvider}`,
    `preset ${preset}: ${paramCount(params).toLocaleString("en")} params, c=${shape.c} ${shape.h}×${shape.w}, batch ${batch}, intraOpNumThreads ${threads}, EP ${result.executionProvider}`,
    `forward ${(2 * macsPerSample / 1e9).toFixed(3)} GFLOP/sample; training step ≈ ${trainGflop.toFixed(3)} GFLOP/sample (forward × 3)`,
    `training: ${samplesPerSec.toFixed(1)} samples/s over ${steps} steps (${((tEnd - tWarm) / steps).toFixed(0)} ms/step)`,
    `host↔session per step: ${(result.bytesPerStep.in / 1e6).toFixed(1)} MB in, ${(result.bytesPerStep.out / 1e6).toFixed(1)} MB out`,
    ...(withCeiling
      ? [
          `achieved ${achieved.toFixed(1)} GFLOP/s; single Conv 8×256→256 32×32 3×3: ${ceiling.toFixed(1)} GFLOP/s; ratio ${(achieved / ceiling).toFixed(2)}`,
          `  (same Conv with the weights as a graph input, as in the training step: ${ceilingIn.toFixed(1)} GFLOP/s; ratio ${(achieved / ceilingIn).toFixed(2)})`,
        ]
      : [`achieved ${achieved.toFixed(1)} GFLOP/s`]),
  ];
  for (const l of out) console.log(l);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
