/**
 * The feature head every backbone graph ends with (DESIGN.md method 1):
 * each chosen stage → optional k×k local average pooling (stride 1, padding
 * excluded from the count) → bilinear resize to grid×grid → concat on
 * channels, as the graph output `features` [N, c, grid, grid].
 */
import { DataType, type GraphBuilder, type Value } from "../../onnx/graph-builder.js";

export function emitStageHead(g: GraphBuilder, stages: readonly Value[], grid: number, pool: number, outputName: string): Value {
  const resized = stages.map((stage) => {
    let x = stage;
    if (pool > 1) {
      x = g.op("AveragePool", [x], { kernel_shape: [pool, pool], strides: [1, 1], pads: Array(4).fill(pool >> 1), count_include_pad: 0 })[0]!;
    }
    // Resize by `sizes` keeps the batch dimension dynamic: sizes = [N, C] of the input ++ [grid, grid].
    const [shape] = g.op("Shape", [x]);
    const [nc] = g.op("Slice", [shape!, g.int64s([0]), g.int64s([2])]);
    const [sizes] = g.op("Concat", [nc!, g.int64s([grid, grid])], { axis: 0 });
    return g.op("Resize", [x, "", "", sizes!], { mode: "linear", coordinate_transformation_mode: "half_pixel" })[0]!;
  });
  const [features] = stages.length === 1 ? g.op("Identity", resized, {}, outputName) : g.op("Concat", resized, { axis: 1 }, outputName);
  g.output(features!, DataType.FLOAT, ["N", "c", grid, grid]);
  return features!;
}
