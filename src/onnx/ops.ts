/**
 * Typed helpers for the ONNX ops that model importers and feature heads use
 * most, on top of GraphBuilder.op. Each returns its single output. Layout is
 * ONNX's NCHW throughout; spatial pads are [top, left, bottom, right].
 */
import type { GraphBuilder, Value } from "./graph-builder.js";

type Pair = readonly [number, number];
/** [top, left, bottom, right], the order ONNX's `pads` attribute uses for 2-D ops. */
export type Pads2d = readonly [number, number, number, number];

function one(values: Value[]): Value {
  return values[0]!;
}

export interface ConvOptions {
  readonly strides?: Pair;
  readonly pads?: Pads2d;
  readonly dilations?: Pair;
  /** Channel groups: 1 for a dense conv, the channel count for a depthwise conv. */
  readonly group?: number;
}

/** 2-D convolution; `w` is OIHW ([out, in/group, kh, kw]), `b` [out] or omitted. */
export function conv(g: GraphBuilder, x: Value, w: Value, b: Value | undefined, kernel: Pair, opts: ConvOptions = {}): Value {
  return one(
    g.op("Conv", b ? [x, w, b] : [x, w], {
      kernel_shape: [...kernel],
      strides: [...(opts.strides ?? [1, 1])],
      pads: [...(opts.pads ?? [0, 0, 0, 0])],
      dilations: [...(opts.dilations ?? [1, 1])],
      group: opts.group ?? 1,
    }),
  );
}

export function relu(g: GraphBuilder, x: Value): Value {
  return one(g.op("Relu", [x]));
}

/** Clamp to [lo, hi] (ReLU6 is clip(x, 0, 6)). */
export function clip(g: GraphBuilder, x: Value, lo: number, hi: number): Value {
  return one(g.op("Clip", [x, g.scalar(lo), g.scalar(hi)]));
}

export function add(g: GraphBuilder, a: Value, b: Value): Value {
  return one(g.op("Add", [a, b]));
}

export function sub(g: GraphBuilder, a: Value, b: Value): Value {
  return one(g.op("Sub", [a, b]));
}

export function mul(g: GraphBuilder, a: Value, b: Value): Value {
  return one(g.op("Mul", [a, b]));
}

export function div(g: GraphBuilder, a: Value, b: Value): Value {
  return one(g.op("Div", [a, b]));
}

/** y = x·scale + shift with scalar constants (input normalization). */
export function affine(g: GraphBuilder, x: Value, scale: number, shift: number): Value {
  const scaled = scale === 1 ? x : mul(g, x, g.scalar(scale));
  return shift === 0 ? scaled : add(g, scaled, g.scalar(shift));
}

/** Per-channel y = x·scale[c] + shift[c] on an NCHW tensor (an unfolded BatchNormalization). */
export function channelAffine(g: GraphBuilder, x: Value, scale: Float32Array, shift: Float32Array, name = "affine"): Value {
  const c = scale.length;
  const m = mul(g, x, g.constant(scale, [1, c, 1, 1], `${name}_scale`));
  return add(g, m, g.constant(shift, [1, c, 1, 1], `${name}_shift`));
}

/** Zero padding of the two spatial axes of an NCHW tensor. */
export function pad2d(g: GraphBuilder, x: Value, pads: Pads2d, value = 0): Value {
  const [t, l, b, r] = pads;
  const inputs: Value[] = [x, g.int64s([0, 0, t, l, 0, 0, b, r])];
  if (value !== 0) inputs.push(g.scalar(value));
  return one(g.op("Pad", inputs, { mode: "constant" }));
}

export function concat(g: GraphBuilder, xs: readonly Value[], axis: number, outputName?: string): Value {
  if (xs.length === 1) return one(g.op("Identity", [xs[0]!], {}, outputName));
  return one(g.op("Concat", xs, { axis }, outputName));
}

export interface PoolOptions {
  readonly strides?: Pair;
  readonly pads?: Pads2d;
}

/**
 * Average pooling. `countIncludePad` false divides by the number of real
 * (unpadded) inputs in each window, as TensorFlow's 'same' pooling does.
 */
export function averagePool(g: GraphBuilder, x: Value, kernel: Pair, opts: PoolOptions & { readonly countIncludePad?: boolean } = {}): Value {
  return one(
    g.op("AveragePool", [x], {
      kernel_shape: [...kernel],
      strides: [...(opts.strides ?? kernel)],
      pads: [...(opts.pads ?? [0, 0, 0, 0])],
      count_include_pad: opts.countIncludePad ? 1 : 0,
    }),
  );
}

export function maxPool(g: GraphBuilder, x: Value, kernel: Pair, opts: PoolOptions = {}): Value {
  return one(g.op("MaxPool", [x], { kernel_shape: [...kernel], strides: [...(opts.strides ?? kernel)], pads: [...(opts.pads ?? [0, 0, 0, 0])] }));
}

/**
 * Bilinear resize of an NCHW tensor to h×w (half-pixel centres, as
 * torch's align_corners=False and TF2's resize), up or down. The batch and
 * channel sizes are read at run time, so the batch dimension stays dynamic.
 */
export function resizeBilinear(g: GraphBuilder, x: Value, h: number, w: number): Value {
  const shape = one(g.op("Shape", [x]));
  const nc = one(g.op("Slice", [shape, g.int64s([0]), g.int64s([2])]));
  const sizes = one(g.op("Concat", [nc, g.int64s([h, w])], { axis: 0 }));
  return one(g.op("Resize", [x, "", "", sizes], { mode: "linear", coordinate_transformation_mode: "half_pixel" }));
}
