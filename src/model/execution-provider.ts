/**
 * Which ONNX Runtime execution provider this process uses for inference:
 * CUDA when asked for and loadable, otherwise the CPU, decided once per
 * process by opening a one-node probe session, and said in one log line.
 * (Asking ORT for "cuda" on a box without its CUDA libraries fails session
 * creation outright instead of falling back.)
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder } from "../onnx/graph-builder.js";

export type ExecutionProvider = "cpu" | "cuda";

let cudaProbe: Promise<string | undefined> | undefined;

/** undefined when CUDA works, else the reason it does not. */
function probeCuda(): Promise<string | undefined> {
  cudaProbe ??= (async () => {
    const g = new GraphBuilder("cuda_probe");
    const x = g.input("x", DataType.FLOAT, [1]);
    g.output(g.op("Relu", [x])[0]!, DataType.FLOAT, [1], "y");
    try {
      const s = await ort.InferenceSession.create(g.toBytes(), { executionProviders: ["cuda"] });
      await s.release();
      return undefined;
    } catch (err) {
      return String((err as Error).message ?? err).split("\n")[0]!.slice(0, 200);
    }
  })();
  return cudaProbe;
}

export async function resolveExecutionProvider(requested: ExecutionProvider, log?: (msg: string) => void): Promise<ExecutionProvider> {
  if (requested === "cuda") {
    const why = await probeCuda();
    if (why === undefined) {
      log?.("execution provider: cuda");
      return "cuda";
    }
    log?.(`execution provider: cpu (cuda requested but unavailable: ${why})`);
    return "cpu";
  }
  log?.("execution provider: cpu");
  return "cpu";
}
