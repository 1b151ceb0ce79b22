/**
 * Converts the needed part of a Keras layer graph (NHWC) into ONNX nodes
 * (NCHW). Supports what MobileNetV2 and InceptionV3 use up to their frozen
 * ImageNet stages: InputLayer, ZeroPadding2D, Conv2D, DepthwiseConv2D,
 * BatchNormalization (folded into the producing conv), ReLU/ReLU6,
 * Activation(relu), Add, Concatenate, MaxPooling2D, AveragePooling2D.
 * Keras 'same' padding is made explicit (TensorFlow pads the extra row and
 * column at the bottom/right).
 */
import { LafiteError, ErrorCode } from "../../util/errors.js";
import type { GraphBuilder, Value } from "../../onnx/graph-builder.js";
import * as ops from "../../onnx/ops.js";
import type { KerasLayer, KerasModel } from "./nsfwjs-package.js";

export interface Tensor {
  readonly value: Value;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/** A conv whose node is not emitted yet, so a following BatchNormalization can be folded into it. */
interface PendingConv {
  readonly input: Value;
  weight: Float32Array; // OIHW
  bias: Float32Array;
  readonly oc: number;
  readonly kernel: readonly [number, number];
  readonly opts: Required<ops.ConvOptions>;
  readonly h: number;
  readonly w: number;
}

const fail = (msg: string) => new LafiteError(ErrorCode.INTERNAL, `Keras import: ${msg}`);

/**
 * How the graph maps its 0–255 RGB input before the first layer: x/255, i.e.
 * [0, 1], for both nsfwjs models. Keras applications train MobileNetV2 and
 * InceptionV3 on x/127.5 − 1, but these files are not those originals:
 * - nsfwjs itself feeds the models img/255 (dist/esm/core.js,
 *   `normalizationOffset = 255`) and the topology holds no Rescaling layer;
 * - the BatchNormalization statistics were re-estimated on [0, 1] inputs:
 *   the first BN's moving mean is exactly Σ kernel · μ for an input mean
 *   μ ≈ (0.58, 0.52, 0.48) per RGB channel, a photo's mean in [0, 1] units
 *   (in [-1, 1] units it would mean pixels averaging ≈ 200/255);
 *   test/model/backbone/input-range.test.ts checks this.
 * Fed [0, 1], every BatchNormalization normalizes with statistics of inputs on
 * that scale; fed [-1, 1], the first one would see pre-activations doubled and
 * shifted against its statistics. On the demo set (kNN scoring, default
 * stages, seeds 1 and 2) [0, 1] gave pixel AUROC 99.1/99.2 vs 98.6/98.8.
 */
export const INPUT_SCALE = { scale: 1 / 255, shift: 0, range: "[0, 1]" } as const;

function pair(v: unknown, what: string): [number, number] {
  if (typeof v === "number") return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  throw fail(`${what} ${JSON.stringify(v)} is not a pair`);
}

/** Explicit [begin, end] padding of one axis for Keras 'same' / 'valid'. */
export function samePadding(size: number, kernel: number, stride: number, dilation: number, mode: string): { begin: number; end: number; out: number } {
  const span = (kernel - 1) * dilation + 1;
  if (mode === "valid") return { begin: 0, end: 0, out: Math.floor((size - span) / stride) + 1 };
  if (mode !== "same") throw fail(`padding '${mode}' is not supported`);
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + span - size, 0);
  const begin = Math.floor(total / 2);
  return { begin, end: total - begin, out };
}

/** The layers needed to compute `targets`, in file (topological) order. */
export function neededLayers(layers: readonly KerasLayer[], targets: readonly string[]): KerasLayer[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const need = new Set<string>();
  const stack = [...targets];
  while (stack.length) {
    const name = stack.pop()!;
    if (need.has(name)) continue;
    const layer = byName.get(name);
    if (!layer) throw fail(`no layer named '${name}'`);
    need.add(name);
    for (const node of layer.inbound_nodes) for (const [inbound] of node) stack.push(inbound);
  }
  return layers.filter((l) => need.has(l.name));
}

function inputsOf(layer: KerasLayer): string[] {
  if (layer.inbound_nodes.length > 1) throw fail(`layer ${layer.name} is shared (called ${layer.inbound_nodes.length} times)`);
  return (layer.inbound_nodes[0] ?? []).map(([name]) => name);
}

/**
 * Emits the graph from `image` ([N,3,S,S] RGB in [0,255]) to every target
 * layer and returns each target's ONNX value and shape.
 */
export function emitKerasLayers(g: GraphBuilder, model: KerasModel, image: Value, inputSize: number, targets: readonly string[]): Map<string, Tensor> {
  const layers = neededLayers(model.layers, targets);
  const consumers = new Map<string, number>();
  for (const l of layers) for (const i of inputsOf(l)) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const t of targets) consumers.set(t, (consumers.get(t) ?? 0) + 1);

  const done = new Map<string, Tensor>();
  const pending = new Map<string, PendingConv>();
  const weight = (name: string) => {
    const w = model.weights.get(name);
    if (!w) throw fail(`weight ${name} is missing`);
    return w;
  };
  const materialize = (name: string): Tensor => {
    const t = done.get(name);
    if (t) return t;
    const p = pending.get(name);
    if (!p) throw fail(`layer ${name} has no output yet`);
    const W = g.constant(p.weight, [p.oc, p.weight.length / (p.oc * p.kernel[0] * p.kernel[1]), p.kernel[0], p.kernel[1]], `${name}_W`);
    const B = g.constant(p.bias, [p.oc], `${name}_B`);
    const out = { value: ops.conv(g, p.input, W, B, p.kernel, p.opts), c: p.oc, h: p.h, w: p.w };
    pending.delete(name);
    done.set(name, out);
    return out;
  };

  for (const layer of layers) {
    const cfg = layer.config;
    const ins = inputsOf(layer);
    switch (layer.class_name) {
      case "InputLayer": {
        // The topology has no Rescaling layer; see INPUT_SCALE for the range these weights expect.
        done.set(layer.name, { value: ops.affine(g, image, INPUT_SCALE.scale, INPUT_SCALE.shift), c: 3, h: inputSize, w: inputSize });
        break;
      }
      case "ZeroPadding2D": {
        const x = materialize(ins[0]!);
        const pad = cfg.padding as [[number, number], [number, number]];
        const [[t, b], [l, r]] = pad;
        done.set(layer.name, { value: ops.pad2d(g, x.value, [t, l, b, r]), c: x.c, h: x.h + t + b, w: x.w + l + r });
        break;
      }
      case "Conv2D":
      case "DepthwiseConv2D": {
        const x = materialize(ins[0]!);
        const depthwise = layer.class_name === "DepthwiseConv2D";
        const [kh, kw] = pair(cfg.kernel_size, "kernel_size");
        const [sh, sw] = pair(cfg.strides, "strides");
        const [dh, dw] = pair(cfg.dilation_rate ?? 1, "dilation_rate");
        const ph = samePadding(x.h, kh, sh, dh, String(cfg.padding));
        const pw = samePadding(x.w, kw, sw, dw, String(cfg.padding));
        const k = weight(`${layer.name}/${depthwise ? "depthwise_kernel" : "kernel"}`);
        const [, , inC, outPer] = k.shape as [number, number, number, number];
        if (inC !== x.c) throw fail(`${layer.name}: kernel expects ${inC} input channels, got ${x.c}`);
        const oc = depthwise ? inC * outPer : outPer;
        const icPerGroup = depthwise ? 1 : inC;
        const W = new Float32Array(oc * icPerGroup * kh * kw);
        // Keras HWIO (depthwise: H W C M) → ONNX OIHW (depthwise: (C·M) 1 H W).
        for (let y = 0; y < kh; y++)
          for (let xx = 0; xx < kw; xx++)
            for (let i = 0; i < inC; i++)
              for (let o = 0; o < outPer; o++) {
                const src = k.values[((y * kw + xx) * inC + i) * outPer + o]!;
                const oo = depthwise ? i * outPer + o : o;
                const ii = depthwise ? 0 : i;
                W[((oo * icPerGroup + ii) * kh + y) * kw + xx] = src;
              }
        const bias = cfg.use_bias ? Float32Array.from(weight(`${layer.name}/bias`).values) : new Float32Array(oc);
        pending.set(layer.name, {
          input: x.value,
          weight: W,
          bias,
          oc,
          kernel: [kh, kw],
          opts: { strides: [sh, sw], pads: [ph.begin, pw.begin, ph.end, pw.end], dilations: [dh, dw], group: depthwise ? inC : 1 },
          h: ph.out,
          w: pw.out,
        });
        const act = cfg.activation ?? "linear";
        if (act !== "linear") {
          const t = materialize(layer.name);
          if (act !== "relu") throw fail(`${layer.name}: activation '${String(act)}' is not supported`);
          done.set(layer.name, { ...t, value: ops.relu(g, t.value) });
        }
        break;
      }
      case "BatchNormalization": {
        const src = ins[0]!;
        const eps = Number(cfg.epsilon ?? 1e-3);
        const mean = weight(`${layer.name}/moving_mean`).values;
        const variance = weight(`${layer.name}/moving_variance`).values;
        const c = mean.length;
        const gamma = cfg.scale === false ? new Float32Array(c).fill(1) : weight(`${layer.name}/gamma`).values;
        const beta = cfg.center === false ? new Float32Array(c) : weight(`${layer.name}/beta`).values;
        const scale = new Float32Array(c);
        const shift = new Float32Array(c);
        for (let i = 0; i < c; i++) {
          scale[i] = gamma[i]! / Math.sqrt(variance[i]! + eps);
          shift[i] = beta[i]! - mean[i]! * scale[i]!;
        }
        const p = pending.get(src);
        if (p && consumers.get(src) === 1) {
          // Fold: W' = W·s per output channel, b' = b·s + (β − μ·s).
          const per = p.weight.length / p.oc;
          for (let o = 0; o < p.oc; o++) {
            for (let j = 0; j < per; j++) p.weight[o * per + j]! *= scale[o]!;
            p.bias[o] = p.bias[o]! * scale[o]! + shift[o]!;
          }
          pending.delete(src);
          pending.set(layer.name, p);
        } else {
          const x = materialize(src);
          done.set(layer.name, { ...x, value: ops.channelAffine(g, x.value, scale, shift, layer.name) });
        }
        break;
      }
      case "ReLU":
      case "Activation": {
        const x = materialize(ins[0]!);
        if (layer.class_name === "Activation" && cfg.activation !== "relu") throw fail(`${layer.name}: activation '${String(cfg.activation)}' is not supported`);
        const max = layer.class_name === "ReLU" ? (cfg.max_value as number | null | undefined) : undefined;
        if (layer.class_name === "ReLU" && (Number(cfg.negative_slope ?? 0) !== 0 || Number(cfg.threshold ?? 0) !== 0)) throw fail(`${layer.name}: leaky/thresholded ReLU is not supported`);
        done.set(layer.name, { ...x, value: max != null ? ops.clip(g, x.value, 0, max) : ops.relu(g, x.value) });
        break;
      }
      case "Add": {
        const xs = ins.map(materialize);
        let acc = xs[0]!.value;
        for (const x of xs.slice(1)) acc = ops.add(g, acc, x.value);
        done.set(layer.name, { ...xs[0]!, value: acc });
        break;
      }
      case "Concatenate": {
        const xs = ins.map(materialize);
        const axis = Number(cfg.axis ?? -1);
        if (axis !== -1 && axis !== 3) throw fail(`${layer.name}: concat on axis ${axis} is not supported (only channels)`);
        done.set(layer.name, { value: ops.concat(g, xs.map((x) => x.value), 1), c: xs.reduce((s, x) => s + x.c, 0), h: xs[0]!.h, w: xs[0]!.w });
        break;
      }
      case "MaxPooling2D":
      case "AveragePooling2D": {
        const x = materialize(ins[0]!);
        const [kh, kw] = pair(cfg.pool_size, "pool_size");
        const [sh, sw] = pair(cfg.strides ?? cfg.pool_size, "strides");
        const ph = samePadding(x.h, kh, sh, 1, String(cfg.padding));
        const pw = samePadding(x.w, kw, sw, 1, String(cfg.padding));
        const opts = { strides: [sh, sw], pads: [ph.begin, pw.begin, ph.end, pw.end] } as const;
        // TensorFlow's 'same' average pooling divides by the number of real (unpadded) inputs.
        const y = layer.class_name === "MaxPooling2D" ? ops.maxPool(g, x.value, [kh, kw], opts) : ops.averagePool(g, x.value, [kh, kw], { ...opts, countIncludePad: false });
        done.set(layer.name, { value: y, c: x.c, h: ph.out, w: pw.out });
        break;
      }
      default:
        throw fail(`layer ${layer.name} of class ${layer.class_name} is not supported`);
    }
  }
  return new Map(targets.map((t) => [t, materialize(t)]));
}
