/**
 * The inference graph of ε_θ from trained weights: inputs `x` [N, c, h, w]
 * and `temb` [N, d], output `eps` [N, c, h, w]. Same emitter as training
 * (unet.ts), with the weights as initializers.
 */
import { DataType, GraphBuilder, type Value } from "../../onnx/graph-builder.js";
import type { UNetConfig } from "./config.js";
import { emitUNet, type FeatureShape, type ParamFn } from "./unet.js";

/** A `param` callback that reads weights into initializers, once per name (so unrolled graphs share them). */
export function initializerParams(g: GraphBuilder, weights: ReadonlyMap<string, Float32Array>): ParamFn {
  const made = new Map<string, Value>();
  return (name, shape) => {
    const have = made.get(name);
    if (have) return have;
    const data = weights.get(name);
    if (!data) throw new Error(`U-Net export: no weights for parameter '${name}'`);
    const v = g.initializer(name, data, shape);
    made.set(name, v);
    return v;
  };
}

export function exportUNet(cfg: UNetConfig, shape: FeatureShape, weights: ReadonlyMap<string, Float32Array>): Uint8Array {
  const g = new GraphBuilder("lafite-unet");
  const x = g.input("x", DataType.FLOAT, ["N", shape.c, shape.h, shape.w]);
  const temb = g.input("temb", DataType.FLOAT, ["N", cfg.timeEmbedDim]);
  const eps = emitUNet(g, x, temb, initializerParams(g, weights), cfg, shape);
  g.output(eps, DataType.FLOAT, ["N", shape.c, shape.h, shape.w], "eps");
  return g.toBytes({ "lafite.unet": JSON.stringify(cfg), "lafite.shape": JSON.stringify(shape) });
}
