/**
 * Throughput of the Conv gradient formulations against the machine's
 * practical ceiling (one large forward Conv in ORT with the same options).
 *
 *   node dist/bench/train-step.js [--threads 2] [--reps 5]
 *
 * 1. Ceiling: forward Conv N=8, 256→256, 32×32, 3×3 pad 1 (9.66 GFLOP).
 * 2. The gradient of that conv given dy: dX by ConvTranspose or (stride 1)
 *    a flipped-weight Conv; dW by im2col or by the batch/channel-swapped
 *    Conv. dX and dW each count the forward FLOPs; printed as GFLOP/s and as
 *    a ratio to the ceiling.
 * 3. The same comparison on U-Net-sized convs (small maps), where the
 *    ranking turns: below ~8×8 output pixels the swapped Conv wins, which is
 *    why the default weight gradient is "auto" (IM2COL_MIN_PIXELS).
 * 4. Per-call overhead of a train step with ~100 small parameters, with fresh
 *    versus preallocated outputs: what several steps per call could save.
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder, type NodeRecord } from "../src/onnx/graph-builder.js";
import { GRADIENT_RULES, type ConvInputGrad, type ConvWeightGrad, type GradContext, type GradFn } from "../src/onnx/autodiff/gradient-rules.js";
import { TypedGraph } from "../src/onnx/autodiff/typed-graph.js";
import { buildTrainStep, type TrainableParam } from "../src/onnx/autodiff/train-step.js";

const args = process.argv.slice(2);
const arg = (k: string, d: number) => {
  const i = args.indexOf(k);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const THREADS = arg("--threads", 2);
const REPS = arg("--reps", 7);
const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: "all" };

interface ConvShape {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  k: number;
  stride: number;
}

const outSize = (s: ConvShape, d: number) => Math.floor((d + 2 * ((s.k - 1) >> 1) - s.k) / s.stride) + 1;
const convFlops = (s: ConvShape) => 2 * s.n * s.cout * s.cin * s.k * s.k * outSize(s, s.h) * outSize(s, s.w);
const attrsOf = (s: ConvShape) => {
  const p = (s.k - 1) >> 1;
  return { kernel_shape: [s.k, s.k], strides: [s.stride, s.stride], pads: [p, p, p, p] };
};

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

async function timeIt(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  await session.run(feeds);
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  // The minimum, not the median: this machine is shared, and contention only ever adds time.
  return Math.min(...times);
}

async function forward(s: ConvShape): Promise<number> {
  const g = new GraphBuilder("fwd");
  const x = g.input("x", DataType.FLOAT, [s.n, s.cin, s.h, s.w]);
  const w = g.input("w", DataType.FLOAT, [s.cout, s.cin, s.k, s.k]);
  const [y] = g.op("Conv", [x, w], attrsOf(s));
  g.output(y!, DataType.FLOAT, [s.n, s.cout, outSize(s, s.h), outSize(s, s.w)], "y");
  const session = await ort.InferenceSession.create(g.toBytes(), opts);
  const ms = await timeIt(session, {
    x: new ort.Tensor("float32", random(s.n * s.cin * s.h * s.w), [s.n, s.cin, s.h, s.w]),
    w: new ort.Tensor("float32", random(s.cout * s.cin * s.k * s.k), [s.cout, s.cin, s.k, s.k]),
  });
  return convFlops(s) / ms / 1e6;
}

/** dX and/or dW of one Conv from a given dy, emitted by the gradient rules themselves. */
async function gradient(s: ConvShape, which: "dx" | "dw" | "both", mode: ConvWeightGrad, inputMode: ConvInputGrad = "auto"): Promise<number> {
  const g = new GraphBuilder("grad");
  const xs = [s.n, s.cin, s.h, s.w];
  const ws = [s.cout, s.cin, s.k, s.k];
  const ys = [s.n, s.cout, outSize(s, s.h), outSize(s, s.w)];
  const x = g.input("x", DataType.FLOAT, xs);
  const w = g.input("w", DataType.FLOAT, ws);
  const dy = g.input("dy", DataType.FLOAT, ys);
  const t = new TypedGraph(g);
  // The Conv node only describes the forward op to the rules; it is not added to the graph.
  const node: NodeRecord = { opType: "Conv", inputs: [x.name, w.name], outputs: ["y"], attrs: attrsOf(s) };
  const ctx: GradContext = {
    t,
    node,
    x: (k) => ({ name: node.inputs[k]! }),
    y: { name: "y" },
    dy,
    dtype: DataType.FLOAT,
    constant: () => {
      throw new Error("no constants");
    },
    options: { convWeightGrad: mode, convInputGrad: inputMode },
  };
  const row = GRADIENT_RULES.Conv as readonly GradFn[];
  if (which !== "dw") g.output(row[0]!(ctx), DataType.FLOAT, xs, "dx");
  if (which !== "dx") g.output(row[1]!(ctx), DataType.FLOAT, ws, "dw");
  const session = await ort.InferenceSession.create(g.toBytes(), opts);
  const ms = await timeIt(session, {
    x: new ort.Tensor("float32", random(xs.reduce((a, b) => a * b, 1)), xs),
    w: new ort.Tensor("float32", random(ws.reduce((a, b) => a * b, 1)), ws),
    dy: new ort.Tensor("float32", random(ys.reduce((a, b) => a * b, 1)), ys),
  });
  const flops = convFlops(s) * (which === "both" ? 2 : 1);
  return flops / ms / 1e6;
}

const fmt = (gf: number, ceiling: number) => `${gf.toFixed(1).padStart(6)} GFLOP/s  (${(gf / ceiling).toFixed(2)}× ceiling)`;

async function callOverhead(): Promise<void> {
  // ~100 parameters of 256 floats: compute is negligible, so the time is per-call cost.
  const g = new GraphBuilder("overhead");
  const x = g.input("x", DataType.FLOAT, [16, 16]);
  const params: TrainableParam[] = [];
  let h = x;
  for (let i = 0; i < 100; i++) {
    params.push({ name: `p${i}`, shape: [16, 16] });
    h = g.op("Add", [h, g.input(`p${i}`, DataType.FLOAT, [16, 16])])[0]!;
  }
  const [loss] = g.op("ReduceMean", [g.op("Mul", [h, h])[0]!], { keepdims: 0 });
  const model = buildTrainStep({ graph: g, params, loss: loss!, adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } });
  const session = await ort.InferenceSession.create(model, opts);
  const feeds: Record<string, ort.Tensor> = {
    x: new ort.Tensor("float32", random(256), [16, 16]),
    lr: new ort.Tensor("float32", Float32Array.of(1e-3), []),
    step: new ort.Tensor("float32", Float32Array.of(1), []),
  };
  const fetches: Record<string, ort.Tensor> = { loss: new ort.Tensor("float32", new Float32Array(1), []) };
  for (const p of params) {
    feeds[p.name] = new ort.Tensor("float32", random(256), p.shape);
    feeds[`m/${p.name}`] = new ort.Tensor("float32", new Float32Array(256), p.shape);
    feeds[`v/${p.name}`] = new ort.Tensor("float32", new Float32Array(256), p.shape);
    for (const k of ["new", "new_m", "new_v"]) fetches[`${k}/${p.name}`] = new ort.Tensor("float32", new Float32Array(256), p.shape);
  }
  const N = 200;
  const measure = async (pre: boolean) => {
    for (let i = 0; i < 20; i++) await (pre ? session.run(feeds, fetches) : session.run(feeds));
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await (pre ? session.run(feeds, fetches) : session.run(feeds));
    return (performance.now() - t0) / N;
  };
  const fresh = await measure(false);
  const pre = await measure(true);
  console.log(`\nTrain-step call, 100 params × 256 floats (≈ 300 in + 300 out tensors, compute negligible):`);
  console.log(`  fresh outputs       ${fresh.toFixed(3)} ms/call`);
  console.log(`  preallocated        ${pre.toFixed(3)} ms/call`);
}

async function main(): Promise<void> {
  console.log(`onnxruntime-node ${ort.env.versions.common}, intraOpNumThreads ${THREADS}, best of ${REPS}`);
  const big: ConvShape = { n: 8, cin: 256, cout: 256, h: 32, w: 32, k: 3, stride: 1 };
  const ceiling = await forward(big);
  console.log(`\nForward Conv N=8 256→256 32×32 3×3 (${(convFlops(big) / 1e9).toFixed(2)} GFLOP): ${ceiling.toFixed(1)} GFLOP/s  = ceiling`);
  console.log(`Gradient of that Conv (dX + dW = 2× forward FLOPs):`);
  console.log(`  dX  ConvTranspose            ${fmt(await gradient(big, "dx", "im2col", "convTranspose"), ceiling)}`);
  console.log(`  dX  flipped-weight Conv      ${fmt(await gradient(big, "dx", "im2col", "auto"), ceiling)}`);
  for (const m of ["im2col", "conv"] as const) console.log(`  dW  ${m.padEnd(25)}${fmt(await gradient(big, "dw", m), ceiling)}`);
  for (const [m, i] of [["conv", "convTranspose"], ["im2col", "convTranspose"], ["im2col", "auto"]] as const) {
    console.log(`  dX+dW (dX ${i === "auto" ? "Conv" : i}, dW ${m})`.padEnd(45) + fmt(await gradient(big, "both", m, i), ceiling));
  }

  // Shapes of the CPU U-Net preset (base 64, mults [1,2], 28×28 → 14×14 features are typical).
  const small: ConvShape[] = [
    { n: 16, cin: 64, cout: 64, h: 28, w: 28, k: 3, stride: 1 },
    { n: 16, cin: 64, cout: 64, h: 28, w: 28, k: 3, stride: 2 },
    { n: 16, cin: 128, cout: 128, h: 14, w: 14, k: 3, stride: 1 },
    { n: 16, cin: 128, cout: 128, h: 7, w: 7, k: 3, stride: 1 },
    { n: 16, cin: 128, cout: 128, h: 4, w: 4, k: 3, stride: 1 },
  ];
  console.log(`\nSmaller convs (U-Net-like), dX + dW:`);
  for (const s of small) {
    const label = `  N=${s.n} ${s.cin}→${s.cout} ${s.h}×${s.w} s${s.stride}`.padEnd(34);
    const a = await gradient(s, "both", "im2col");
    const b = await gradient(s, "both", "conv");
    const c = await gradient(s, "both", "im2col", "convTranspose");
    console.log(`${label} dW im2col ${a.toFixed(1).padStart(6)}  dW conv ${b.toFixed(1).padStart(6)}  | dX ConvTranspose + dW im2col ${c.toFixed(1).padStart(6)} GFLOP/s`);
  }
  await callOverhead();
}

await main();
