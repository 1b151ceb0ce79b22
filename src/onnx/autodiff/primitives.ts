/**
 * The fixed list of primitive ops autodiff differentiates. Everything else a
 * model needs is a composite of these, built by the caller:
 *   SiLU(x)      = Mul(x, Sigmoid(x))
 *   GroupNorm(x) = Reshape → ReduceMean → Sub → Mul → ReduceMean → Add(eps) → Sqrt → Div → Reshape → Mul(γ) → Add(β)
 *   Linear(x)    = Add(MatMul(x, W), b)   (or Gemm)
 *   MSE(a, b)    = ReduceMean(Mul(Sub(a, b), Sub(a, b)))
 * `gradient-rules.ts` holds exactly one row per entry here (the compiler
 * checks this), so adding an op means adding it here and giving it a row.
 */
export const PRIMITIVE_OPS = [
  // Plumbing
  "Identity", //    y = x
  "Reshape", //     y = reshape(x, shape)          shape: constant, no gradient
  "Transpose", //   y = permute(x, perm)
  "Unsqueeze", //   y = x with size-1 axes added   axes: constant, no gradient
  "Squeeze", //     y = x with size-1 axes removed
  "Expand", //      y = broadcast(x, shape)        shape: constant, no gradient
  "Concat", //      y = [x0, x1, ...] along axis   (variadic)
  "Slice", //       y = x[starts:ends] with step 1; starts/ends/axes/steps: constants
  "Resize", //      nearest-neighbour upsampling by integer scales; roi/scales/sizes: constants

  // Elementwise, numpy broadcasting
  "Add", //         y = a + b
  "Sub", //         y = a − b
  "Mul", //         y = a · b
  "Div", //         y = a / b
  "Pow", //         y = a ^ p                       p: must not depend on a parameter
  "Sum", //         y = x0 + x1 + ...               (variadic, broadcasting)
  "Neg", //         y = −x
  "Sqrt", //        y = √x
  "Exp", //         y = eˣ
  "Log", //         y = ln x
  "Sigmoid", //     y = 1 / (1 + e⁻ˣ)
  "Tanh", //        y = tanh x

  // Reductions (opset 17: ReduceMean has an `axes` attribute, ReduceSum an `axes` input)
  "ReduceMean", //  y = mean over axes
  "ReduceSum", //   y = sum over axes

  // Linear algebra
  "MatMul", //      y = a @ b, batched with broadcasting (rank ≥ 2)
  "Gemm", //        y = α·op(A)·op(B) + β·C
  "Conv", //        2-D convolution: any strides, pads, dilations, group; bias optional
] as const;

export type PrimitiveOp = (typeof PRIMITIVE_OPS)[number];
