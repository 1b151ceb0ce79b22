import { test } from "node:test";
import assert from "node:assert/strict";
import { corrupt, ddimSigma, ddimStep, ddimTimesteps } from "../../../src/model/diffusion/ddim.js";

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("DDIM timesteps run from τ down by Δt and stay positive", () => {
  assert.deepEqual(ddimTimesteps(10, 3), [10, 7, 4, 1]);
  assert.deepEqual(ddimTimesteps(6, 2), [6, 4, 2]);
  assert.deepEqual(ddimTimesteps(1, 5), [1]);
  assert.throws(() => ddimTimesteps(0, 1), /τ/);
  assert.throws(() => ddimTimesteps(5, 0), /Δt/);
});

test("Eq. 8/11 corruption by hand", () => {
  // ᾱ = 0.36: √ᾱ = 0.6, √(1−ᾱ) = 0.8.
  const out = corrupt(Float32Array.of(1, -2), 0.36, Float32Array.of(0.5, 1));
  close(out[0]!, 0.6 + 0.4);
  close(out[1]!, -1.2 + 0.8);
});

test("DDIM step by hand, η = 0 (x̂_0 divides by √ᾱ_t, not ᾱ_t)", () => {
  // ᾱ_t = 0.25, ᾱ_prev = 0.64, x_t = 1, ε = 0.5:
  // x̂_0 = (1 − √0.75·0.5)/0.5 = 1.1339746; x_prev = 0.8·x̂_0 + √0.36·0.5 = 1.2071797.
  const out = ddimStep(Float32Array.of(1), Float32Array.of(0.5), 0.25, 0.64, 0);
  close(out[0]!, 1.2071797);
});

test("DDIM step by hand, η = 1 with noise z", () => {
  // σ = √(0.36/0.75)·√(1 − 0.25/0.64) = 0.6928203·0.7806247 = 0.5408327
  // x_prev = 0.8·1.1339746 + √(0.36 − σ²)·0.5 + σ·2 = 0.9071797 + 0.1299038 + 1.0816654
  close(ddimSigma(0.25, 0.64, 1), 0.5408327);
  const out = ddimStep(Float32Array.of(1), Float32Array.of(0.5), 0.25, 0.64, 1, Float32Array.of(2));
  close(out[0]!, 2.1187489);
  assert.throws(() => ddimStep(Float32Array.of(1), Float32Array.of(0.5), 0.25, 0.64, 1), /needs noise/);
});

test("with the true noise, η = 0 DDIM lands exactly on q(x_prev | x_0) and the last step returns x_0", () => {
  const x0 = Float32Array.of(0.3, -1.1, 2);
  const eps = Float32Array.of(-0.7, 0.2, 1.5);
  const xt = corrupt(x0, 0.1, eps);
  const prev = ddimStep(xt, eps, 0.1, 0.7, 0);
  const want = corrupt(x0, 0.7, eps);
  for (let i = 0; i < 3; i++) close(prev[i]!, want[i]!, 1e-5);
  const last = ddimStep(xt, eps, 0.1, 1, 0);
  for (let i = 0; i < 3; i++) close(last[i]!, x0[i]!, 1e-5);
});
