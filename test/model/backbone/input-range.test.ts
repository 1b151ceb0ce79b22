/**
 * Evidence for the input range the nsfwjs weights expect (INPUT_SCALE): the
 * first BatchNormalization's moving mean is Σ kernel · μ for the mean μ of
 * the images it was estimated on, so solving for μ reveals their scale.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readKerasModel, type BuiltinArch } from "../../../src/model/backbone/nsfwjs-package.js";
import { INPUT_SCALE } from "../../../src/model/backbone/keras-to-onnx.js";

/** Least-squares μ (3 RGB means) with moving_mean[j] ≈ Σ_{y,x,c} W[y,x,c,j] μ_c, and the fit's R². */
function impliedInputMean(arch: BuiltinArch, conv: string, bn: string): { mu: number[]; r2: number } {
  const km = readKerasModel(arch);
  const k = km.weights.get(`${conv}/kernel`)!;
  const [kh, kw, ci, co] = k.shape as [number, number, number, number];
  const mean = km.weights.get(`${bn}/moving_mean`)!.values;
  const A = Array.from({ length: co }, (_, j) => {
    const row = [0, 0, 0];
    for (let p = 0; p < kh * kw; p++) for (let c = 0; c < ci; c++) row[c]! += k.values[(p * ci + c) * co + j]!;
    return row;
  });
  // Normal equations AᵀA μ = Aᵀm, solved by Cramer's rule (3×3).
  const M = [0, 1, 2].map((a) => [0, 1, 2].map((b) => A.reduce((s, r) => s + r[a]! * r[b]!, 0)));
  const rhs = [0, 1, 2].map((a) => A.reduce((s, r, j) => s + r[a]! * mean[j]!, 0));
  const det = (m: number[][]) =>
    m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) - m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) + m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const d = det(M);
  const mu = [0, 1, 2].map((i) => det(M.map((row, r) => row.map((v, c) => (c === i ? rhs[r]! : v)))) / d);
  let res = 0;
  let tot = 0;
  A.forEach((r, j) => {
    res += (r[0]! * mu[0]! + r[1]! * mu[1]! + r[2]! * mu[2]! - mean[j]!) ** 2;
    tot += mean[j]! ** 2;
  });
  return { mu, r2: 1 - res / tot };
}

for (const [arch, conv, bn] of [
  ["mobilenet_v2", "Conv1", "bn_Conv1"],
  ["inception_v3", "conv2d_1", "batch_normalization_1"],
] as const) {
  test(`${arch}: the first BN statistics were measured on inputs in [0, 1], the range the graph feeds`, () => {
    const { mu, r2 } = impliedInputMean(arch, conv, bn);
    console.log(`${arch}: implied input mean per RGB channel ${mu.map((v) => v.toFixed(3)).join(", ")} (R² ${r2.toFixed(4)})`);
    assert.ok(r2 > 0.99, `the moving mean is not explained by an input mean (R² ${r2})`);
    // A photo mean in [0,1] units; in [-1,1] units these values would mean pixels averaging ≈ 190–200 of 255.
    for (const m of mu) assert.ok(m > 0.3 && m < 0.7, `implied mean ${m} is not a plausible [0,1] photo mean`);
    assert.equal(INPUT_SCALE.shift, 0);
    assert.ok(Math.abs(INPUT_SCALE.scale * 255 - 1) < 1e-9);
  });
}
