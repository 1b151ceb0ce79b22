/**
 * THE table of gradient rules: one row per primitive op (primitives.ts), one
 * entry per input. An entry is either a function giving ∂L/∂input from the
 * incoming ∂L/∂y (`c.dy`), or `none("why")` for inputs that have no gradient
 * (shapes, axes, exponents...). The driver (gradients.ts) fails if such an
 * input depends on a parameter.
 *
 * A rule may return a gradient with the *broadcast output shape* (e.g. Add
 * returns dy as is); the driver sums it back to the input's shape in one
 * place. Rules never do that reduction themselves.
 */
import type { DataType, NodeRecord, Value } from "../graph-builder.js";
import type { PrimitiveOp } from "./primitives.js";
import { convGeometry, floatAttr, intAttr, intsAttr, normAxis, sliceAxes, strAttr } from "./shape-inference.js";
import type { TypedGraph } from "./typed-graph.js";

/**
 * How the Conv weight gradient is emitted; all are exact, speed differs (see
 * bench/train-step.ts). "auto" takes im2col when the output map has at least
 * IM2COL_MIN_PIXELS pixels and the batch/channel-swapped Conv below that,
 * where the k·k slices cost more than they save.
 */
export type ConvWeightGrad = "auto" | "im2col" | "conv";
export const IM2COL_MIN_PIXELS = 64;

/** How the Conv input gradient is emitted: always ConvTranspose, or a flipped-weight Conv where stride is 1. */
export type ConvInputGrad = "auto" | "convTranspose";

export interface AutodiffOptions {
  /** Default "auto" (see ConvWeightGrad). */
  convWeightGrad?: ConvWeightGrad;
  /** Default "auto": stride-1 convs use a forward Conv (measured faster), others ConvTranspose. */
  convInputGrad?: ConvInputGrad;
}

export interface GradContext {
  readonly t: TypedGraph;
  readonly node: NodeRecord;
  /** Forward input k. */
  x(k: number): Value;
  /** Forward output (the first). */
  readonly y: Value;
  /** ∂L/∂y, shaped like y. */
  readonly dy: Value;
  /** Float type of the differentiated computation. */
  readonly dtype: DataType;
  /** Values of constant input k (an initializer). */
  constant(k: number): number[];
  readonly options: Required<AutodiffOptions>;
}

export type GradFn = (c: GradContext) => Value;
export interface NoGrad {
  readonly none: string;
}
export type GradSlot = GradFn | NoGrad;
/** One entry per input, or one function applied to every input of a variadic op (given the input index). */
export type GradRow = readonly GradSlot[] | { readonly variadic: (c: GradContext, k: number) => Value };

const none = (why: string): NoGrad => ({ none: why });

// ---- small emit helpers -------------------------------------------------------

const op = (c: GradContext, type: string, inputs: readonly (Value | "")[], attrs = {}) => c.t.op(type, inputs, attrs);
const k = (c: GradContext, x: number) => c.t.scalar(x, c.dtype);
const shapeOf = (c: GradContext, v: Value) => c.t.shape(v);
const reshape = (c: GradContext, v: Value, shape: readonly number[]) => op(c, "Reshape", [v, c.t.int64s(shape)]);
const xShape = (c: GradContext, i = 0) => shapeOf(c, c.x(i));
const backToInput: GradFn = (c) => reshape(c, c.dy, xShape(c));

/** Swaps the last two axes. */
function transposeLast2(c: GradContext, v: Value): Value {
  const r = shapeOf(c, v).length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return op(c, "Transpose", [v], { perm });
}

/** The gradient of a reduction: put the reduced axes back as size 1, then broadcast to x's shape. */
function unreduce(c: GradContext, axes: number[] | undefined, scale: number): Value {
  const x = xShape(c);
  const set = new Set((axes === undefined || axes.length === 0 ? x.map((_, i) => i) : axes).map((a) => normAxis(a, x.length, c.node.opType)));
  const kept = x.map((d, i) => (set.has(i) ? 1 : d));
  let g = reshape(c, c.dy, kept);
  if (scale !== 1) g = op(c, "Mul", [g, k(c, scale)]);
  return op(c, "Expand", [g, c.t.int64s(x)]);
}

// ---- Conv ---------------------------------------------------------------------

function conv2dOnly(c: GradContext): void {
  if (xShape(c).length !== 4) throw new Error(`Conv gradient: only 2-D convolution is supported, input is rank ${xShape(c).length}`);
}

/**
 * ∂L/∂X of a stride-1 Conv as a forward Conv of dy with the weights flipped
 * in space and with in/out channels swapped per group, padded by
 * (k−1)·d − p on each side. Undefined when a pad exceeds (k−1)·d.
 */
function convInputGradByConv(c: GradContext): Value | undefined {
  const wshape = xShape(c, 1);
  const g = convGeometry(c.node, wshape);
  if (g.strides.some((s) => s !== 1)) return undefined;
  const pads = g.pads.map((p, i) => (g.kernel[i % 2]! - 1) * g.dilations[i % 2]! - p);
  if (pads.some((p) => p < 0)) return undefined;
  const [cout, cig, kh, kw] = wshape as [number, number, number, number];
  const G = g.group;
  const cog = cout / G;
  let w = c.x(1);
  if (cig !== 1 || cog !== 1) {
    // [G·cog, cig, kh, kw] → [G·cig, cog, kh, kw]
    w = reshape(c, w, [G, cog, cig, kh, kw]);
    w = op(c, "Transpose", [w], { perm: [0, 2, 1, 3, 4] });
    w = reshape(c, w, [G * cig, cog, kh, kw]);
  }
  const big = -(2 ** 62);
  w = op(c, "Slice", [w, c.t.int64s([-1, -1]), c.t.int64s([big, big]), c.t.int64s([2, 3]), c.t.int64s([-1, -1])]);
  return op(c, "Conv", [c.dy, w], { kernel_shape: g.kernel, strides: [1, 1], pads, dilations: g.dilations, group: G });
}

/** ∂L/∂X of a Conv: the transposed convolution of dy with the same weights. */
const convInputGrad: GradFn = (c) => {
  conv2dOnly(c);
  if (c.options.convInputGrad === "auto") {
    const v = convInputGradByConv(c);
    if (v) return v;
  }
  const x = xShape(c);
  const w = xShape(c, 1);
  const g = convGeometry(c.node, w);
  const o = shapeOf(c, c.dy);
  const outputPadding = [0, 1].map((i) => {
    const span = (g.kernel[i]! - 1) * g.dilations[i]! + 1;
    return x[i + 2]! - (g.strides[i]! * (o[i + 2]! - 1) + span - g.pads[i]! - g.pads[i + 2]!);
  });
  return op(c, "ConvTranspose", [c.dy, c.x(1)], {
    kernel_shape: g.kernel,
    strides: g.strides,
    pads: g.pads,
    dilations: g.dilations,
    group: g.group,
    output_padding: outputPadding,
  });
};

/**
 * ∂L/∂W as a convolution: swap batch and channel axes of X and dy, then
 * convolve X by dy with stride = forward dilation and dilation = forward
 * stride. Groups ride along in the channel axis of the swapped tensors.
 */
function convWeightGradByConv(c: GradContext): Value {
  const [n, , h, wd] = xShape(c) as [number, number, number, number];
  const wshape = xShape(c, 1);
  const g = convGeometry(c.node, wshape);
  const [cout, cig, kh, kw] = wshape as [number, number, number, number];
  const [, , oh, ow] = shapeOf(c, c.dy) as [number, number, number, number];
  const G = g.group;
  const cog = cout / G;
  // X [N, G·cig, H, W] → [cig, G·N, H, W]
  let xi = reshape(c, c.x(0), [n, G, cig, h, wd]);
  xi = op(c, "Transpose", [xi], { perm: [2, 1, 0, 3, 4] });
  xi = reshape(c, xi, [cig, G * n, h, wd]);
  // dy [N, G·cog, oh, ow] → [G·cog, N, oh, ow]
  let dyi = reshape(c, c.dy, [n, G, cog, oh, ow]);
  dyi = op(c, "Transpose", [dyi], { perm: [1, 2, 0, 3, 4] });
  dyi = reshape(c, dyi, [G * cog, n, oh, ow]);
  let gw = op(c, "Conv", [xi, dyi], { kernel_shape: [oh, ow], strides: g.dilations, dilations: g.strides, pads: g.pads, group: G });
  const gs = shapeOf(c, gw);
  if (gs[2] !== kh || gs[3] !== kw) gw = op(c, "Slice", [gw, c.t.int64s([0, 0]), c.t.int64s([kh, kw]), c.t.int64s([2, 3])]);
  return op(c, "Transpose", [gw], { perm: [1, 0, 2, 3] });
}

/**
 * ∂L/∂W by im2col: pad X, take one strided Slice per kernel tap, stack them
 * into columns [N, G, kh·kw·cig, P], multiply by dyᵀ [N, G, P, cog] in one
 * batched MatMul and sum over the batch.
 */
function convWeightGradIm2col(c: GradContext): Value {
  const n = xShape(c)[0]!;
  const wshape = xShape(c, 1);
  const g = convGeometry(c.node, wshape);
  const [cout, cig, kh, kw] = wshape as [number, number, number, number];
  const [, , oh, ow] = shapeOf(c, c.dy) as [number, number, number, number];
  const G = g.group;
  const cog = cout / G;
  const P = oh * ow;
  const [pt, pl, pb, pr] = g.pads as [number, number, number, number];
  const xp = pt || pl || pb || pr ? op(c, "Pad", [c.x(0), c.t.int64s([0, 0, pt, pl, 0, 0, pb, pr])]) : c.x(0);
  const [sh, sw] = g.strides as [number, number];
  const [dh, dw] = g.dilations as [number, number];
  const cols: Value[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const starts = [i * dh, j * dw];
      const ends = [starts[0]! + (oh - 1) * sh + 1, starts[1]! + (ow - 1) * sw + 1];
      const s = op(c, "Slice", [xp, c.t.int64s(starts), c.t.int64s(ends), c.t.int64s([2, 3]), c.t.int64s([sh, sw])]);
      cols.push(reshape(c, s, [n, G, cig, P]));
    }
  }
  const colsAll = cols.length === 1 ? cols[0]! : op(c, "Concat", cols, { axis: 2 }); // [N, G, KK·cig, P]
  const dyT = transposeLast2(c, reshape(c, c.dy, [n, G, cog, P])); // [N, G, P, cog]
  const prod = op(c, "MatMul", [colsAll, dyT]); // [N, G, KK·cig, cog]
  const summed = op(c, "ReduceSum", [prod, c.t.int64s([0])], { keepdims: 0 }); // [G, KK·cig, cog]
  const r = reshape(c, summed, [G, kh, kw, cig, cog]);
  const t = op(c, "Transpose", [r], { perm: [0, 4, 3, 1, 2] }); // [G, cog, cig, kh, kw]
  return reshape(c, t, [cout, cig, kh, kw]);
}

const convWeightGrad: GradFn = (c) => {
  conv2dOnly(c);
  const mode = c.options.convWeightGrad;
  const [, , oh, ow] = shapeOf(c, c.dy) as [number, number, number, number];
  const im2col = mode === "im2col" || (mode === "auto" && oh * ow >= IM2COL_MIN_PIXELS);
  return im2col ? convWeightGradIm2col(c) : convWeightGradByConv(c);
};

const convBiasGrad: GradFn = (c) => op(c, "ReduceSum", [c.dy, c.t.int64s([0, 2, 3])], { keepdims: 0 });

// ---- Gemm ---------------------------------------------------------------------

const gemmA: GradFn = (c) => {
  const alpha = { float: floatAttr(c.node, "alpha", 1) };
  const tA = intAttr(c.node, "transA", 0);
  const tB = intAttr(c.node, "transB", 0);
  // dA' = α dy B'ᵀ;  A = A' or A'ᵀ
  if (!tA) return op(c, "Gemm", [c.dy, c.x(1)], { alpha, transB: tB ? 0 : 1 });
  return op(c, "Gemm", [c.x(1), c.dy], { alpha, transA: tB, transB: 1 });
};
const gemmB: GradFn = (c) => {
  const alpha = { float: floatAttr(c.node, "alpha", 1) };
  const tA = intAttr(c.node, "transA", 0);
  const tB = intAttr(c.node, "transB", 0);
  // dB' = α A'ᵀ dy
  if (!tB) return op(c, "Gemm", [c.x(0), c.dy], { alpha, transA: tA ? 0 : 1 });
  return op(c, "Gemm", [c.dy, c.x(0)], { alpha, transA: 1, transB: tA });
};
const gemmC: GradFn = (c) => {
  const beta = floatAttr(c.node, "beta", 1);
  return beta === 1 ? c.dy : op(c, "Mul", [c.dy, k(c, beta)]);
};

// ---- Resize (nearest, integer scales) ----------------------------------------

const resizeGrad: GradFn = (c) => {
  const n = c.node;
  if (strAttr(n, "mode", "nearest") !== "nearest") throw new Error(`Resize gradient: only mode=nearest is supported, got ${strAttr(n, "mode", "nearest")}`);
  const ctm = strAttr(n, "coordinate_transformation_mode", "half_pixel");
  const nm = strAttr(n, "nearest_mode", "round_prefer_floor");
  // With an integer scale s, output index s·i + j (0 ≤ j < s) must read input i:
  // asymmetric + floor gives ⌊i + j/s⌋ = i; half_pixel + rounding gives round(i + (j + ½)/s − ½) = i.
  const blockCopy = (ctm === "asymmetric" && nm === "floor") || ((ctm === "half_pixel" || ctm === "pytorch_half_pixel") && nm.startsWith("round_prefer"));
  if (!blockCopy) throw new Error(`Resize gradient: coordinate_transformation_mode=${ctm} with nearest_mode=${nm} does not copy blocks; use asymmetric+floor or half_pixel+round_prefer_floor`);
  const x = xShape(c);
  const y = shapeOf(c, c.y);
  const scales = x.map((d, i) => y[i]! / d);
  if (scales.some((s) => !Number.isInteger(s))) throw new Error(`Resize gradient: scales [${scales}] must be integers`);
  const split = x.flatMap((d, i) => [d, scales[i]!]);
  const axes = x.map((_, i) => 2 * i + 1);
  return op(c, "ReduceSum", [reshape(c, c.dy, split), c.t.int64s(axes)], { keepdims: 0 });
};

// ---- Slice (step 1) -----------------------------------------------------------

const sliceGrad: GradFn = (c) => {
  const x = xShape(c);
  const has = (i: number) => (c.node.inputs[i] ?? "") !== "";
  const ax = sliceAxes(x, c.constant(1), c.constant(2), has(3) ? c.constant(3) : undefined, has(4) ? c.constant(4) : undefined);
  if (ax.some((a) => a.step !== 1)) throw new Error("Slice gradient: only step 1 is supported");
  const pads = [...ax.map((a) => a.start), ...ax.map((a, i) => x[i]! - a.start - a.count)];
  return op(c, "Pad", [c.dy, c.t.int64s(pads)]);
};

// ---- the table ------------------------------------------------------------------

export const GRADIENT_RULES: Readonly<Record<PrimitiveOp, GradRow>> = {
  Identity: [(c) => c.dy],
  Reshape: [backToInput, none("target shape")],
  Transpose: [
    (c) => {
      const r = xShape(c).length;
      const perm = intsAttr(c.node, "perm") ?? [...Array(r).keys()].reverse();
      const inv = new Array<number>(r);
      perm.forEach((p, i) => (inv[p] = i));
      return op(c, "Transpose", [c.dy], { perm: inv });
    },
  ],
  Unsqueeze: [backToInput, none("axes")],
  Squeeze: [backToInput, none("axes")],
  Expand: [(c) => c.dy, none("target shape")],
  Concat: {
    variadic: (c, i) => {
      const axis = normAxis(intAttr(c.node, "axis", 0), xShape(c).length, "Concat");
      let start = 0;
      for (let j = 0; j < i; j++) start += xShape(c, j)[axis]!;
      const end = start + xShape(c, i)[axis]!;
      return op(c, "Slice", [c.dy, c.t.int64s([start]), c.t.int64s([end]), c.t.int64s([axis])]);
    },
  },
  Slice: [sliceGrad, none("starts"), none("ends"), none("axes"), none("steps")],
  Resize: [resizeGrad, none("roi"), none("scales"), none("sizes")],

  Add: [(c) => c.dy, (c) => c.dy],
  Sub: [(c) => c.dy, (c) => op(c, "Neg", [c.dy])],
  Mul: [(c) => op(c, "Mul", [c.dy, c.x(1)]), (c) => op(c, "Mul", [c.dy, c.x(0)])],
  Div: [
    (c) => op(c, "Div", [c.dy, c.x(1)]),
    // ∂(a/b)/∂b = −a/b² = −y/b
    (c) => op(c, "Neg", [op(c, "Div", [op(c, "Mul", [c.dy, c.y]), c.x(1)])]),
  ],
  Pow: [
    // p · x^(p−1)
    (c) => op(c, "Mul", [c.dy, op(c, "Mul", [c.x(1), op(c, "Pow", [c.x(0), op(c, "Sub", [c.x(1), k(c, 1)])])])]),
    none("exponent (must be constant with respect to the parameters)"),
  ],
  Sum: { variadic: (c) => c.dy },
  Neg: [(c) => op(c, "Neg", [c.dy])],
  Sqrt: [(c) => op(c, "Div", [c.dy, op(c, "Mul", [c.y, k(c, 2)])])],
  Exp: [(c) => op(c, "Mul", [c.dy, c.y])],
  Log: [(c) => op(c, "Div", [c.dy, c.x(0)])],
  Sigmoid: [(c) => op(c, "Mul", [c.dy, op(c, "Mul", [c.y, op(c, "Sub", [k(c, 1), c.y])])])],
  Tanh: [(c) => op(c, "Mul", [c.dy, op(c, "Sub", [k(c, 1), op(c, "Mul", [c.y, c.y])])])],

  ReduceMean: [
    (c) => {
      const x = xShape(c);
      const y = shapeOf(c, c.y);
      const count = x.reduce((a, b) => a * b, 1) / y.reduce((a, b) => a * b, 1);
      return unreduce(c, intsAttr(c.node, "axes"), 1 / count);
    },
  ],
  ReduceSum: [
    (c) => {
      const hasAxes = (c.node.inputs[1] ?? "") !== "";
      const axes = hasAxes ? c.constant(1) : undefined;
      if ((axes === undefined || axes.length === 0) && intAttr(c.node, "noop_with_empty_axes", 0) === 1) return c.dy;
      return unreduce(c, axes, 1);
    },
    none("axes"),
  ],

  MatMul: [(c) => op(c, "MatMul", [c.dy, transposeLast2(c, c.x(1))]), (c) => op(c, "MatMul", [transposeLast2(c, c.x(0)), c.dy])],
  Gemm: [gemmA, gemmB, gemmC],
  Conv: [convInputGrad, convWeightGrad, convBiasGrad],
};

export function isNoGrad(s: GradSlot): s is NoGrad {
  return typeof s !== "function";
}
