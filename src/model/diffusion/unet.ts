/**
 * The ε-prediction U-Net ε_θ(x_t, t) of LafitE 3.2, emitted as ONNX nodes.
 *
 * One definition serves training and inference: weights come from a `param`
 * callback that makes either a graph input (training, so autodiff can
 * differentiate with respect to it) or an initializer (inference export).
 *
 * Built only from primitives that have gradient rules (Conv, MatMul, Add,
 * Sub, Mul, Div, Sqrt, Sigmoid, ReduceMean, Reshape, Concat, Slice, Resize
 * nearest): GroupNorm and SiLU are composites of those.
 *
 * Layout (ADM-style, without attention):
 *   conv_in (c → base) → [level i: resBlocksPerLevel × ResBlock(→ base·mult_i), then stride-2 conv unless last]
 *   → midBlocks × ResBlock → [level i reversed: (resBlocksPerLevel+1) × (concat skip, ResBlock), then
 *   nearest ×2 + conv unless first] → GroupNorm → SiLU → conv_out (base → c, zero-init).
 * A stride-2 conv of an odd size rounds up (7 → 4); the ×2 upsample is then
 * cropped with Slice to the skip's size (8 → 7), so 28×28 features work with
 * any depth.
 */
import { DataType, GraphBuilder, type Value } from "../../onnx/graph-builder.js";
import type { UNetConfig } from "./config.js";

export type ParamInit =
  /** He-normal: N(0, 2/fanIn), for convs and linears followed by SiLU. */
  | { readonly kind: "he"; readonly fanIn: number }
  | { readonly kind: "zeros" }
  | { readonly kind: "ones" };

export type ParamFn = (name: string, shape: readonly number[], init: ParamInit) => Value;

export interface FeatureShape {
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/** Multiply-accumulate counts of the convs and matmuls of one sample's forward pass (×2 = FLOPs). */
export interface UNetStats {
  macsPerSample: number;
}

interface T4 {
  v: Value;
  c: number;
  h: number;
  w: number;
}

const GN_EPS = 1e-5;

class Emitter {
  constructor(
    readonly g: GraphBuilder,
    readonly param: ParamFn,
    readonly cfg: UNetConfig,
    readonly stats: UNetStats,
  ) {}

  conv(name: string, x: T4, cout: number, k: number, stride = 1, zeroInit = false): T4 {
    const pad = (k - 1) >> 1;
    const w = this.param(`${name}.w`, [cout, x.c, k, k], zeroInit ? { kind: "zeros" } : { kind: "he", fanIn: x.c * k * k });
    const b = this.param(`${name}.b`, [cout], { kind: "zeros" });
    const [y] = this.g.op("Conv", [x.v, w, b], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });
    const h = Math.floor((x.h + 2 * pad - k) / stride) + 1;
    const wd = Math.floor((x.w + 2 * pad - k) / stride) + 1;
    this.stats.macsPerSample += cout * h * wd * x.c * k * k;
    return { v: y!, c: cout, h, w: wd };
  }

  /** y = x W + b with x [N, din]. */
  linear(name: string, x: Value, din: number, dout: number): Value {
    const w = this.param(`${name}.w`, [din, dout], { kind: "he", fanIn: din });
    const b = this.param(`${name}.b`, [dout], { kind: "zeros" });
    this.stats.macsPerSample += din * dout;
    return this.g.op("Add", [this.g.op("MatMul", [x, w])[0]!, b])[0]!;
  }

  silu(x: Value): Value {
    return this.g.op("Mul", [x, this.g.op("Sigmoid", [x])[0]!])[0]!;
  }

  /** GroupNorm from primitives: normalize over (C/G, H, W) per group, then per-channel affine. */
  groupNorm(name: string, x: T4): T4 {
    const groups = largestDivisorAtMost(x.c, this.cfg.groups);
    const g = this.g;
    const [r] = g.op("Reshape", [x.v, g.int64s([0, groups, -1])]);
    const [mean] = g.op("ReduceMean", [r!], { axes: [2], keepdims: 1 });
    const [d] = g.op("Sub", [r!, mean!]);
    const [sq] = g.op("Mul", [d!, d!]);
    const [variance] = g.op("ReduceMean", [sq!], { axes: [2], keepdims: 1 });
    const [std] = g.op("Sqrt", [g.op("Add", [variance!, g.scalar(GN_EPS)])[0]!]);
    const [n] = g.op("Div", [d!, std!]);
    const [back] = g.op("Reshape", [n!, g.int64s([0, x.c, x.h, x.w])]);
    const gamma = this.param(`${name}.gamma`, [x.c, 1, 1], { kind: "ones" });
    const beta = this.param(`${name}.beta`, [x.c, 1, 1], { kind: "zeros" });
    const [y] = g.op("Add", [g.op("Mul", [back!, gamma])[0]!, beta]);
    return { ...x, v: y! };
  }

  /** ResBlock: GN → SiLU → conv3 → + time → GN → SiLU → conv3 (zero-init) ; skip 1×1 when channels change. */
  resBlock(name: string, x: T4, cout: number, temb: Value, tembDim: number): T4 {
    const a = this.groupNorm(`${name}.norm1`, x);
    let h = this.conv(`${name}.conv1`, { ...a, v: this.silu(a.v) }, cout, 3);
    const t = this.linear(`${name}.temb`, this.silu(temb), tembDim, cout);
    const [t4] = this.g.op("Reshape", [t, this.g.int64s([0, cout, 1, 1])]);
    h = { ...h, v: this.g.op("Add", [h.v, t4!])[0]! };
    const b = this.groupNorm(`${name}.norm2`, h);
    h = this.conv(`${name}.conv2`, { ...b, v: this.silu(b.v) }, cout, 3, 1, true);
    const skip = x.c === cout ? x : this.conv(`${name}.skip`, x, cout, 1);
    return { ...h, v: this.g.op("Add", [skip.v, h.v])[0]! };
  }

  /** Nearest ×2, cropped to (h, w), then a 3×3 conv. */
  upsample(name: string, x: T4, h: number, w: number): T4 {
    const g = this.g;
    const [up] = g.op("Resize", [x.v, "", g.constant(Float32Array.of(1, 1, 2, 2), [4], "scales")], { mode: "nearest", nearest_mode: "floor", coordinate_transformation_mode: "asymmetric" });
    let y: T4 = { v: up!, c: x.c, h: 2 * x.h, w: 2 * x.w };
    if (y.h !== h || y.w !== w) {
      const [s] = g.op("Slice", [y.v, g.int64s([0, 0]), g.int64s([h, w]), g.int64s([2, 3])]);
      y = { v: s!, c: x.c, h, w };
    }
    return this.conv(name, y, x.c, 3);
  }
}

/**
 * Emits ε_θ(x, t). `x` is [N, c, h, w], `temb` the sinusoidal embedding
 * [N, cfg.timeEmbedDim]; returns ε [N, c, h, w]. `stats`, if given, receives
 * the multiply-accumulates per sample (for FLOP accounting in benchmarks).
 */
export function emitUNet(g: GraphBuilder, x: Value, temb: Value, param: ParamFn, cfg: UNetConfig, shape: FeatureShape, stats: UNetStats = { macsPerSample: 0 }): Value {
  validateUNetConfig(cfg);
  const e = new Emitter(g, param, cfg, stats);
  const base = cfg.baseChannels;
  const tdim = 4 * base;

  // Time MLP: d → 4·base → SiLU → 4·base (the blocks apply their own SiLU).
  const temb1 = e.linear("time.fc1", temb, cfg.timeEmbedDim, tdim);
  const tEmb = e.linear("time.fc2", e.silu(temb1), tdim, tdim);

  let h = e.conv("conv_in", { v: x, ...shape }, base, cfg.ioKernel);
  const skips: T4[] = [h];
  cfg.channelMults.forEach((mult, level) => {
    for (let r = 0; r < cfg.resBlocksPerLevel; r++) {
      h = e.resBlock(`down${level}.res${r}`, h, base * mult, tEmb, tdim);
      skips.push(h);
    }
    if (level < cfg.channelMults.length - 1) {
      h = e.conv(`down${level}.downsample`, h, h.c, 3, 2);
      skips.push(h);
    }
  });
  for (let m = 0; m < cfg.midBlocks; m++) h = e.resBlock(`mid.res${m}`, h, h.c, tEmb, tdim);
  for (let level = cfg.channelMults.length - 1; level >= 0; level--) {
    const mult = cfg.channelMults[level]!;
    for (let r = 0; r <= cfg.resBlocksPerLevel; r++) {
      const s = skips.pop()!;
      const [cat] = g.op("Concat", [h.v, s.v], { axis: 1 });
      h = e.resBlock(`up${level}.res${r}`, { v: cat!, c: h.c + s.c, h: h.h, w: h.w }, base * mult, tEmb, tdim);
    }
    if (level > 0) {
      const next = skips[skips.length - 1]!;
      h = e.upsample(`up${level}.upsample`, h, next.h, next.w);
    }
  }
  const n = e.groupNorm("norm_out", h);
  const out = e.conv("conv_out", { ...n, v: e.silu(n.v) }, shape.c, cfg.ioKernel, 1, true);
  return out.v;
}

export function validateUNetConfig(cfg: UNetConfig): void {
  const bad = (what: string) => {
    throw new RangeError(`U-Net config: ${what}`);
  };
  if (!(cfg.baseChannels >= 1 && Number.isInteger(cfg.baseChannels))) bad(`baseChannels must be a positive integer, got ${cfg.baseChannels}`);
  if (cfg.channelMults.length < 1 || cfg.channelMults.some((m) => !(m >= 1 && Number.isInteger(m)))) bad(`channelMults must be positive integers, got [${cfg.channelMults.join(",")}]`);
  if (!(cfg.resBlocksPerLevel >= 1)) bad(`resBlocksPerLevel must be ≥ 1, got ${cfg.resBlocksPerLevel}`);
  if (!(cfg.midBlocks >= 0)) bad(`midBlocks must be ≥ 0, got ${cfg.midBlocks}`);
  if (!(cfg.timeEmbedDim >= 2 && cfg.timeEmbedDim % 2 === 0)) bad(`timeEmbedDim must be even and ≥ 2, got ${cfg.timeEmbedDim}`);
  if (!(cfg.groups >= 1)) bad(`groups must be ≥ 1, got ${cfg.groups}`);
}

function largestDivisorAtMost(n: number, k: number): number {
  for (let d = Math.min(n, k); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
}

/** The parameters of a U-Net, in emission order, with their init, and its MACs per sample. */
export function unetParamSpecs(cfg: UNetConfig, shape: FeatureShape): { params: ParamSpec[]; macsPerSample: number } {
  const params: ParamSpec[] = [];
  const g = new GraphBuilder("unet-specs");
  const stats = { macsPerSample: 0 };
  const x = g.input("x", DataType.FLOAT, ["N", shape.c, shape.h, shape.w]);
  const t = g.input("temb", DataType.FLOAT, ["N", cfg.timeEmbedDim]);
  emitUNet(g, x, t, (name, s, init) => {
    params.push({ name, shape: [...s], init });
    return { name };
  }, cfg, shape, stats);
  return { params, macsPerSample: stats.macsPerSample };
}

export function paramCount(params: readonly ParamSpec[]): number {
  return params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
}

