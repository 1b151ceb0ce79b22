/**
 * The forward graph of one training step, Eq. 6:
 *   L = mean ‖ε − ε_θ(√ᾱ_t x_0 + √(1−ᾱ_t) ε, t)‖²
 * Inputs: `x0`, `noise` [B, c, h, w]; `sqrt_ab`, `sqrt_1mab` [B, 1, 1, 1]
 * (√ᾱ_t and √(1−ᾱ_t) of each sample's t); `temb` [B, d]; and every U-Net
 * parameter as a graph input. The mean runs over all elements, so the loss
 * is the per-element MSE (ε has unit variance: a zero predictor scores 1).
 * With `weighted`, a `loss_w` [B, 1, 1, 1] input scales each sample's
 * squared error first (the min-SNR weighting, loss-weight.ts).
 */
import { DataType, GraphBuilder, type Value } from "../../onnx/graph-builder.js";
import type { UNetConfig } from "./config.js";
import { emitUNet, type FeatureShape } from "./unet.js";

/** Same shape as autodiff's TrainableParam (src/onnx/autodiff/train-step.ts). */
export interface GraphParam {
  name: string;
  shape: number[];
}

export interface TrainingForward {
  graph: GraphBuilder;
  params: GraphParam[];
  loss: Value;
  eps: Value;
  macsPerSample: number;
}

export const TRAIN_INPUTS = ["x0", "noise", "sqrt_ab", "sqrt_1mab", "temb"] as const;

export function buildTrainingForward(cfg: UNetConfig, shape: FeatureShape, batch: number, weighted = false): TrainingForward {
  const g = new GraphBuilder("lafite-unet-train");
  const full = [batch, shape.c, shape.h, shape.w];
  const x0 = g.input("x0", DataType.FLOAT, full);
  const noise = g.input("noise", DataType.FLOAT, full);
  const sa = g.input("sqrt_ab", DataType.FLOAT, [batch, 1, 1, 1]);
  const s1 = g.input("sqrt_1mab", DataType.FLOAT, [batch, 1, 1, 1]);
  const temb = g.input("temb", DataType.FLOAT, [batch, cfg.timeEmbedDim]);
  const [xt] = g.op("Add", [g.op("Mul", [x0, sa])[0]!, g.op("Mul", [noise, s1])[0]!]);
  const params: GraphParam[] = [];
  const seen = new Map<string, Value>();
  const stats = { macsPerSample: 0 };
  const eps = emitUNet(g, xt!, temb, (name, s) => {
    let v = seen.get(name);
    if (!v) {
      v = g.input(name, DataType.FLOAT, s);
      seen.set(name, v);
      params.push({ name, shape: [...s] });
    }
    return v;
  }, cfg, shape, stats);
  const [diff] = g.op("Sub", [eps, noise]);
  let [sq] = g.op("Mul", [diff!, diff!]);
  if (weighted) [sq] = g.op("Mul", [sq!, g.input("loss_w", DataType.FLOAT, [batch, 1, 1, 1])]);
  const [loss] = g.op("ReduceMean", [sq!], { keepdims: 0 });
  return { graph: g, params, loss: loss!, eps, macsPerSample: stats.macsPerSample };
}
