/**
 * The feature head every backbone graph ends with (DESIGN.md method 1):
 * each chosen stage → optional k×k local average pooling (stride 1, padding
 * k//2 excluded from the count) → bilinear resize (half-pixel) to grid×grid,
 * up or down → concat on channels, as the graph output `features`
 * [N, c, grid, grid].
 */
import { DataType, type GraphBuilder, type Value } from "../../onnx/graph-builder.js";
import * as ops from "../../onnx/ops.js";

export function emitStageHead(g: GraphBuilder, stages: readonly Value[], grid: number, pool: number, outputName: string): Value {
  const resized = stages.map((stage) => {
    const half = pool >> 1;
    const x = pool > 1 ? ops.averagePool(g, stage, [pool, pool], { strides: [1, 1], pads: [half, half, half, half], countIncludePad: false }) : stage;
    return ops.resizeBilinear(g, x, grid, grid);
  });
  const features = ops.concat(g, resized, 1, outputName);
  g.output(features, DataType.FLOAT, ["N", "c", grid, grid]);
  return features;
}
