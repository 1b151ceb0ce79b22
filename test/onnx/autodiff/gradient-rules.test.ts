/**
 * Every row of GRADIENT_RULES against central finite differences on small
 * random shapes. Each case's loss is Σ R·y for a fixed random R, so ∂L/∂y is
 * a random tensor and every element of the rule is exercised.
 *
 * float64 (h = 1e-5): relative error ≤ 1e-3 required (observed ~1e-8).
 * float32 for Conv and Resize (no double kernels in ORT CPU): both are linear
 * in each input, so the central difference has no truncation error and only
 * rounding remains: ≈ ε₃₂·|L|/h ≈ 1e-7·10/1e-2 = 1e-4 relative to O(1)
 * gradients; we require ≤ 1e-2 (observed ~1e-4–1e-3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PRIMITIVE_OPS } from "../../../src/onnx/autodiff/primitives.js";
import { checkCase, makeCase, type CaseBuilder, type Float } from "./finite-differences.js";
import type { Value } from "../../../src/onnx/graph-builder.js";
import type { AutodiffOptions } from "../../../src/onnx/autodiff/gradient-rules.js";

interface Spec {
  name: string;
  /** The primitive ops this case covers. */
  ops: string[];
  f?: Float;
  body: (b: CaseBuilder) => Value;
  autodiff?: AutodiffOptions;
}

const covered = new Set<string>();

function unary(op: string, gen?: () => number): Spec {
  return {
    name: op,
    ops: [op],
    body: (b) => {
      const x = b.param("x", [2, 3, 4], gen);
      return b.project(b.g.op(op, [x])[0]!, [2, 3, 4]);
    },
  };
}

let seedGen = 0;
const positive = () => {
  const r = Math.sin(++seedGen * 12.9898) * 43758.5453;
  return 0.5 + (r - Math.floor(r)); // in [0.5, 1.5)
};

function binary(op: string, sa: number[], sb: number[], out: number[], genB?: () => number): Spec {
  return {
    name: `${op} [${sa}] ∘ [${sb}]`,
    ops: [op],
    body: (b) => {
      const a = b.param("a", sa);
      const c = b.param("b", sb, genB);
      return b.project(b.g.op(op, [a, c])[0]!, out);
    },
  };
}

function conv(name: string, x: number[], w: number[], attrs: Record<string, number[] | number>, out: number[], bias: boolean, mode: Required<AutodiffOptions>): Spec {
  return {
    name: `Conv ${name} (dX: ${mode.convInputGrad}, dW: ${mode.convWeightGrad})`,
    ops: ["Conv"],
    f: "float32",
    autodiff: mode,
    body: (b) => {
      const xi = b.param("x", x);
      const wi = b.param("w", w);
      const ins = bias ? [xi, wi, b.param("bias", [w[0]!])] : [xi, wi];
      return b.project(b.g.op("Conv", ins, attrs)[0]!, out);
    },
  };
}

const cases: Spec[] = [
  unary("Identity"),
  unary("Neg"),
  unary("Sqrt", positive),
  unary("Exp"),
  unary("Log", positive),
  unary("Sigmoid"),
  unary("Tanh"),
  binary("Add", [2, 3, 4], [3, 1], [2, 3, 4]),
  binary("Add", [1, 3, 1], [2, 1, 4], [2, 3, 4]),
  binary("Sub", [2, 3, 4], [4], [2, 3, 4]),
  binary("Sub", [3, 1], [2, 3, 4], [2, 3, 4]),
  binary("Mul", [2, 3, 4], [2, 1, 4], [2, 3, 4]),
  binary("Mul", [], [2, 3], [2, 3]),
  binary("Div", [2, 3, 4], [3, 1], [2, 3, 4], positive),
  binary("Div", [4], [2, 3, 4], [2, 3, 4], positive),
  {
    name: "Pow (constant exponent 2.5)",
    ops: ["Pow"],
    body: (b) => {
      const x = b.param("x", [2, 3], positive);
      const p = b.g.constant(Float64Array.of(2.5), []);
      return b.project(b.g.op("Pow", [x, p])[0]!, [2, 3]);
    },
  },
  {
    name: "Sum of three, broadcasting",
    ops: ["Sum"],
    body: (b) => {
      const y = b.g.op("Sum", [b.param("a", [2, 3]), b.param("b", [3]), b.param("c", [2, 1])])[0]!;
      return b.project(y, [2, 3]);
    },
  },
  {
    name: "Expand",
    ops: ["Expand"],
    body: (b) => b.project(b.g.op("Expand", [b.param("x", [3, 1]), b.g.int64s([2, 3, 4])])[0]!, [2, 3, 4]),
  },
  {
    name: "Reshape (0 and −1)",
    ops: ["Reshape"],
    body: (b) => b.project(b.g.op("Reshape", [b.param("x", [2, 3, 4]), b.g.int64s([0, -1, 2])])[0]!, [2, 6, 2]),
  },
  {
    name: "Transpose",
    ops: ["Transpose"],
    body: (b) => b.project(b.g.op("Transpose", [b.param("x", [2, 3, 4])], { perm: [2, 0, 1] })[0]!, [4, 2, 3]),
  },
  {
    name: "Unsqueeze + Squeeze",
    ops: ["Unsqueeze", "Squeeze"],
    body: (b) => {
      const u = b.g.op("Unsqueeze", [b.param("x", [2, 3]), b.g.int64s([0, 2])])[0]!;
      const s = b.g.op("Squeeze", [b.g.op("Mul", [u, b.constant([1, 2, 1, 3])])[0]!, b.g.int64s([0])])[0]!;
      return b.project(s, [2, 1, 3]);
    },
  },
  {
    name: "Concat of three on axis 1",
    ops: ["Concat"],
    body: (b) => b.project(b.g.op("Concat", [b.param("a", [2, 1, 3]), b.param("b", [2, 2, 3]), b.param("c", [2, 3, 3])], { axis: 1 })[0]!, [2, 6, 3]),
  },
  {
    name: "Slice (negative start, axes subset)",
    ops: ["Slice"],
    body: (b) => b.project(b.g.op("Slice", [b.param("x", [2, 5, 6]), b.g.int64s([-4, 1]), b.g.int64s([4, 100]), b.g.int64s([1, 2])])[0]!, [2, 3, 5]),
  },
  {
    name: "ReduceMean axes [1] keepdims 1",
    ops: ["ReduceMean"],
    body: (b) => b.project(b.g.op("ReduceMean", [b.param("x", [2, 3, 4])], { axes: [1] })[0]!, [2, 1, 4]),
  },
  {
    name: "ReduceMean axes [0, −1] keepdims 0",
    ops: ["ReduceMean"],
    body: (b) => b.project(b.g.op("ReduceMean", [b.param("x", [2, 3, 4])], { axes: [0, -1], keepdims: 0 })[0]!, [3]),
  },
  {
    name: "ReduceMean over all (MSE-style)",
    ops: ["ReduceMean"],
    body: (b) => {
      const x = b.param("x", [2, 3]);
      return b.g.op("ReduceMean", [b.g.op("Mul", [x, x])[0]!], { keepdims: 0 })[0]!;
    },
  },
  {
    name: "ReduceSum axes input [1, 2] keepdims 0",
    ops: ["ReduceSum"],
    body: (b) => b.project(b.g.op("ReduceSum", [b.param("x", [2, 3, 4]), b.g.int64s([1, 2])], { keepdims: 0 })[0]!, [2]),
  },
  {
    name: "ReduceSum without axes keepdims 1",
    ops: ["ReduceSum"],
    body: (b) => b.project(b.g.op("ReduceSum", [b.param("x", [2, 3])])[0]!, [1, 1]),
  },
  {
    name: "MatMul 2-D",
    ops: ["MatMul"],
    body: (b) => b.project(b.g.op("MatMul", [b.param("a", [3, 4]), b.param("b", [4, 5])])[0]!, [3, 5]),
  },
  {
    name: "MatMul batched × 2-D (broadcast batch)",
    ops: ["MatMul"],
    body: (b) => b.project(b.g.op("MatMul", [b.param("a", [2, 3, 4]), b.param("b", [4, 5])])[0]!, [2, 3, 5]),
  },
  {
    name: "MatMul [2,1,3,4] × [3,4,5]",
    ops: ["MatMul"],
    body: (b) => b.project(b.g.op("MatMul", [b.param("a", [2, 1, 3, 4]), b.param("b", [3, 4, 5])])[0]!, [2, 3, 3, 5]),
  },
  ...[0, 1].flatMap((tA) =>
    [0, 1].map(
      (tB): Spec => ({
        name: `Gemm transA=${tA} transB=${tB} α=0.7 β=1.3, C [5]`,
        ops: ["Gemm"],
        body: (b) => {
          const A = b.param("A", tA ? [4, 3] : [3, 4]);
          const B = b.param("B", tB ? [5, 4] : [4, 5]);
          const C = b.param("C", [5]);
          return b.project(b.g.op("Gemm", [A, B, C], { transA: tA, transB: tB, alpha: { float: 0.7 }, beta: { float: 1.3 } })[0]!, [3, 5]);
        },
      }),
    ),
  ),
  ...(
    [
      { convWeightGrad: "im2col", convInputGrad: "auto" },
      { convWeightGrad: "conv", convInputGrad: "auto" },
      { convWeightGrad: "im2col", convInputGrad: "convTranspose" },
    ] as const
  ).flatMap((m) => [
    conv("3×3 stride 1 pad 1", [2, 3, 5, 5], [4, 3, 3, 3], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, [2, 4, 5, 5], true, m),
    conv("3×3 stride 2 pad 1, odd size 7", [2, 3, 7, 7], [4, 3, 3, 3], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 4, 4, 4], true, m),
    conv("3×3 stride 2 pad 1, even size 8", [2, 2, 8, 6], [3, 2, 3, 3], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, [2, 3, 4, 3], true, m),
    conv("1×1 stride 2 (skipped rows)", [2, 3, 5, 4], [2, 3, 1, 1], { strides: [2, 2] }, [2, 2, 3, 2], true, m),
    conv("group 2, stride (2,1), asymmetric pads", [2, 4, 6, 5], [6, 2, 3, 2], { group: 2, strides: [2, 1], pads: [1, 0, 0, 1] }, [2, 6, 3, 5], false, m),
    conv("dilation 2", [1, 2, 7, 7], [3, 2, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }, [1, 3, 7, 7], true, m),
    conv("depthwise 3×3", [2, 3, 5, 5], [3, 1, 3, 3], { group: 3, pads: [1, 1, 1, 1] }, [2, 3, 5, 5], false, m),
  ]),
  {
    name: "Resize nearest ×2 (asymmetric, floor)",
    ops: ["Resize"],
    f: "float32",
    body: (b) => {
      const scales = b.g.constant(Float32Array.of(1, 1, 2, 2), [4]);
      const y = b.g.op("Resize", [b.param("x", [2, 3, 3, 4]), "", scales], { mode: "nearest", nearest_mode: "floor", coordinate_transformation_mode: "asymmetric" })[0]!;
      return b.project(y, [2, 3, 6, 8]);
    },
  },
  {
    name: "Resize nearest ×(3,2) by sizes (half_pixel default)",
    ops: ["Resize"],
    f: "float32",
    body: (b) => {
      const sizes = b.g.int64s([1, 2, 6, 4]);
      const y = b.g.op("Resize", [b.param("x", [1, 2, 2, 2]), "", "", sizes], { mode: "nearest" })[0]!;
      return b.project(y, [1, 2, 6, 4]);
    },
  },
  {
    name: "SiLU composite x·σ(x)",
    ops: [],
    // float32: ORT fuses x·σ(x) into com.microsoft.QuickGelu, which has no double kernel.
    // Nonlinear, so truncation adds h²·|f‴|/6 ≈ 2e-5 to the rounding error: still far below 1e-2.
    f: "float32",
    body: (b) => {
      const x = b.param("x", [2, 5]);
      return b.project(b.g.op("Mul", [x, b.g.op("Sigmoid", [x])[0]!])[0]!, [2, 5]);
    },
  },
  {
    name: "MSE loss composite",
    ops: [],
    body: (b) => {
      const d = b.g.op("Sub", [b.param("pred", [2, 3, 2]), b.param("target", [2, 3, 2])])[0]!;
      return b.g.op("ReduceMean", [b.g.op("Mul", [d, d])[0]!], { keepdims: 0 })[0]!;
    },
  },
];

for (const c of cases) {
  test(`∂ ${c.name} matches central differences`, async (t) => {
    const f = c.f ?? "float64";
    const built = makeCase(f, cases.indexOf(c) + 1, c.body);
    const r = await checkCase(built, f, { autodiff: c.autodiff });
    t.diagnostic(`${f} max relative error ${r.maxRelError.toExponential(2)} over ${r.checked} elements`);
    assert.ok(r.checked > 0);
    assert.ok(r.maxRelError <= (f === "float64" ? 1e-3 : 1e-2), `max relative error ${r.maxRelError}`);
    for (const op of c.ops) covered.add(op);
  });
}

test("every primitive op has a finite-difference case", () => {
  const missing = PRIMITIVE_OPS.filter((op) => !covered.has(op));
  assert.deepEqual(missing, []);
});
