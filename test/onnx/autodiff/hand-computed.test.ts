/**
 * Gradients worked out by hand, failure modes of the driver, a composite
 * (GroupNorm from primitives) and an independent reference (a plain
 * TypeScript convolution gradient).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { GraphBuilder, DataType } from "../../../src/onnx/graph-builder.js";
import { buildGradientGraph } from "../../../src/onnx/autodiff/train-step.js";
import { checkCase, gradients, makeCase, rng } from "./finite-differences.js";

const close = (a: number[], b: number[], tol: number) => {
  assert.equal(a.length, b.length);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `element ${i}: ${v} vs ${b[i]}`));
};

test("broadcast Add: the bias gradient sums the weights over the broadcast axis", async () => {
  // L = Σ W ⊙ (a + b), a [2,3], b [3]  ⇒  ∂L/∂a = W, ∂L/∂b_j = Σ_i W_ij
  const W = [1, 2, 3, 10, 20, 30];
  const c = makeCase("float64", 1, (b) => {
    const y = b.g.op("Add", [b.param("a", [2, 3]), b.param("b", [3])])[0]!;
    const w = b.g.constant(Float64Array.from(W), [2, 3]);
    return b.g.op("ReduceSum", [b.g.op("Mul", [y, w])[0]!], { keepdims: 0 })[0]!;
  });
  const g = await gradients(c, "float64");
  assert.deepEqual(g.a, W);
  assert.deepEqual(g.b, [11, 22, 33]);
});

test("an input the loss does not use gets a zero gradient of its own shape", async () => {
  const c = makeCase("float64", 2, (b) => {
    b.param("unused", [2, 2]);
    return b.g.op("ReduceSum", [b.param("x", [3])], { keepdims: 0 })[0]!;
  });
  const g = await gradients(c, "float64");
  assert.deepEqual(g.unused, [0, 0, 0, 0]);
  assert.deepEqual(g.x, [1, 1, 1]);
});

test("a tensor used twice accumulates both contributions: ∂Σx²/∂x = 2x", async () => {
  const c = makeCase("float64", 3, (b) => {
    const x = b.param("x", [4]);
    return b.g.op("ReduceSum", [b.g.op("Mul", [x, x])[0]!], { keepdims: 0 })[0]!;
  });
  const g = await gradients(c, "float64");
  close(g.x!, Array.from(c.feeds.x!, (v) => 2 * v), 1e-12);
});

test("an op without a rule fails loudly and names the op", () => {
  const c = makeCase("float32", 4, (b) => b.g.op("ReduceSum", [b.g.op("Floor", [b.param("x", [3])])[0]!], { keepdims: 0 })[0]!);
  assert.throws(() => buildGradientGraph(c), /no gradient rule for op 'Floor'/);
});

test("a parameter feeding an input without gradient fails loudly", () => {
  const c = makeCase("float32", 5, (b) => {
    const y = b.g.op("Pow", [b.g.constant(Float32Array.of(2, 3), [2]), b.param("p", [2])])[0]!;
    return b.g.op("ReduceSum", [y], { keepdims: 0 })[0]!;
  });
  assert.throws(() => buildGradientGraph(c), /Pow input 1 \('p'\) has no gradient \(exponent/);
});

test("symbolic dimensions and non-scalar losses are refused", () => {
  const g = new GraphBuilder("sym");
  const x = g.input("x", DataType.FLOAT, ["N", 3]);
  const w = g.input("w", DataType.FLOAT, [3]);
  const [l] = g.op("ReduceSum", [g.op("Mul", [x, w])[0]!], { keepdims: 0 });
  assert.throws(() => buildGradientGraph({ graph: g, params: [{ name: "w", shape: [3] }], loss: l! }), /input 'x' has symbolic dimension 'N'/);
  const h = new GraphBuilder("vec");
  const y = h.input("y", DataType.FLOAT, [3]);
  assert.throws(() => buildGradientGraph({ graph: h, params: [{ name: "y", shape: [3] }], loss: y }), /must hold one value/);
});

test("GroupNorm built from primitives matches finite differences (float64)", async (t) => {
  // x [2, 6, 3, 3], 3 groups, per-channel affine: the U-Net's composite.
  const c = makeCase("float64", 6, (b) => {
    const g = b.g;
    const x = b.param("x", [2, 6, 3, 3]);
    const [r] = g.op("Reshape", [x, g.int64s([0, 3, -1])]);
    const [mean] = g.op("ReduceMean", [r!], { axes: [2], keepdims: 1 });
    const [d] = g.op("Sub", [r!, mean!]);
    const [variance] = g.op("ReduceMean", [g.op("Mul", [d!, d!])[0]!], { axes: [2], keepdims: 1 });
    const [std] = g.op("Sqrt", [g.op("Add", [variance!, g.constant(Float64Array.of(1e-5), [])])[0]!]);
    const [n] = g.op("Div", [d!, std!]);
    const [back] = g.op("Reshape", [n!, g.int64s([0, 6, 3, 3])]);
    const gamma = b.param("gamma", [6, 1, 1]);
    const beta = b.param("beta", [6, 1, 1]);
    const [y] = g.op("Add", [g.op("Mul", [back!, gamma])[0]!, beta]);
    return b.project(y!, [2, 6, 3, 3]);
  });
  const r = await checkCase(c, "float64", { perParam: 40 });
  t.diagnostic(`GroupNorm float64 max relative error ${r.maxRelError.toExponential(2)} over ${r.checked} elements`);
  assert.ok(r.maxRelError <= 1e-3, `max relative error ${r.maxRelError}`);
});

/** Plain loops: ∂(Σ R·conv(x, w))/∂x and /∂w for a strided, padded, grouped 2-D conv. */
function convGradReference(x: Float32Array, xs: number[], w: Float32Array, ws: number[], R: Float32Array, os: number[], s: number, p: number, G: number) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [O, cig, KH, KW] = ws as [number, number, number, number];
  const [, , OH, OW] = os as [number, number, number, number];
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const cog = O / G;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const r = R[((n * O + o) * OH + oh) * OW + ow]!;
          const grp = Math.floor(o / cog);
          for (let ci = 0; ci < cig; ci++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * s - p + kh;
                const iw = ow * s - p + kw;
                if (ih < 0 || iw < 0 || ih >= H || iw >= W) continue;
                const xi = ((n * C + grp * cig + ci) * H + ih) * W + iw;
                const wi = ((o * cig + ci) * KH + kh) * KW + kw;
                dx[xi]! += r * w[wi]!;
                dw[wi]! += r * x[xi]!;
              }
        }
  return { dx: Array.from(dx), dw: Array.from(dw) };
}

for (const [mode, stride] of [["im2col", 2], ["conv", 2], ["im2col", 1], ["conv", 1]] as const) {
  test(`Conv gradients (stride ${stride}, ${mode} weight gradient) equal a plain TypeScript reference`, async () => {
    const xs = [2, 4, 7, 6];
    const ws = [6, 2, 3, 3];
    const os = stride === 2 ? [2, 6, 4, 3] : [2, 6, 7, 6];
    const r = rng(7);
    const R = Float32Array.from({ length: os.reduce((a, b) => a * b, 1) }, () => 2 * r() - 1);
    const c = makeCase("float32", 8, (b) => {
      const y = b.g.op("Conv", [b.param("x", xs), b.param("w", ws)], { strides: [stride, stride], pads: [1, 1, 1, 1], group: 2 })[0]!;
      return b.g.op("ReduceSum", [b.g.op("Mul", [y, b.g.constant(R, os)])[0]!], { keepdims: 0 })[0]!;
    });
    const g = await gradients(c, "float32", { convWeightGrad: mode });
    const ref = convGradReference(c.feeds.x as Float32Array, xs, c.feeds.w as Float32Array, ws, R, os, stride, 1, 2);
    close(g.x!, ref.dx, 1e-5);
    close(g.w!, ref.dw, 1e-5);
  });
}
