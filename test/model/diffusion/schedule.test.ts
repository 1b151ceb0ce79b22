import { test } from "node:test";
import assert from "node:assert/strict";
import { cosineSchedule } from "../../../src/model/diffusion/schedule.js";

const close = (a: number, b: number, rel: number) => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

test("cosine schedule: β_1 and ᾱ by hand (s = 0.008, T = 1000)", () => {
  const s = cosineSchedule(1000);
  // f(0) = cos²(0.008/1.008·π/2), f(1) = cos²(0.009/1.008·π/2); β_1 = 1 − f(1)/f(0).
  // cos²(0.01246688) = 0.99984459, cos²(0.01402524) = 0.99980331 → β_1 ≈ 4.1284e-5.
  close(s.beta[1]!, 4.1284e-5, 1e-3);
  close(s.alphaBar[1]!, 1 - 4.1284e-5, 1e-8);
  // Half way: ᾱ_500 = f(500)/f(0) = cos²(0.508/1.008·π/2)/f(0) = 0.4938436.
  close(s.alphaBar[500]!, 0.4938436, 1e-6);
  assert.equal(s.alphaBar[0], 1);
});

test("cosine schedule: ᾱ_t telescopes to f(t)/f(0) where β is not clipped, and β_T is clipped at 0.999", () => {
  const T = 1000;
  const s = cosineSchedule(T);
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  for (const t of [1, 10, 100, 250, 750, 900, 990, 999]) close(s.alphaBar[t]!, f(t) / f(0), 1e-9);
  assert.equal(s.beta[T], 0.999); // f(T) = 0 would make β_T = 1
  close(s.alphaBar[T]!, s.alphaBar[T - 1]! * 0.001, 1e-12);
  for (let t = 1; t <= T; t++) {
    assert.ok(s.beta[t]! > 0 && s.beta[t]! <= 0.999);
    assert.ok(s.alphaBar[t]! < s.alphaBar[t - 1]!);
  }
});

test("cosine schedule refuses a bad T", () => {
  assert.throws(() => cosineSchedule(0), /positive integer/);
  assert.throws(() => cosineSchedule(2.5), /positive integer/);
});
