import { test } from "node:test";
import assert from "node:assert/strict";
import { emaDecayAt, emaInit, emaUpdate } from "../../../src/model/diffusion/weight-ema.js";

test("weight EMA over 3 steps matches the hand computation, warm-up decay included", () => {
  // decay 0.5: the warm-up factors (1+n)/(10+n) are 0.1, 2/11, 0.25 — all below 0.5, so they apply.
  assert.equal(emaDecayAt(0.5, 0), 0.1);
  assert.equal(emaDecayAt(0.5, 1), 2 / 11);
  assert.equal(emaDecayAt(0.5, 2), 0.25);
  assert.equal(emaDecayAt(0.5, 100), 0.5);
  const shadow = emaInit(new Map([["w", Float32Array.of(0, 10)]]));
  // Steps give θ1 = (1, 0), θ2 = (2, 0), θ3 = (4, 0).
  emaUpdate(shadow, new Map([["w", Float32Array.of(1, 0)]]), 0.5, 0); // 0.1·0 + 0.9·1 = 0.9;  0.1·10 = 1
  emaUpdate(shadow, new Map([["w", Float32Array.of(2, 0)]]), 0.5, 1); // (2/11)·0.9 + (9/11)·2 = 19.8/11 = 1.8;  (2/11)·1 = 2/11
  emaUpdate(shadow, new Map([["w", Float32Array.of(4, 0)]]), 0.5, 2); // 0.25·1.8 + 0.75·4 = 3.45;  0.25·2/11 = 0.5/11
  const w = shadow.get("w")!;
  assert.ok(Math.abs(w[0]! - 3.45) < 1e-6, `w[0] = ${w[0]}`);
  assert.ok(Math.abs(w[1]! - 0.5 / 11) < 1e-6, `w[1] = ${w[1]}`);
});

test("the shadow starts as a copy: updating it leaves the starting weights alone", () => {
  const start = Float32Array.of(1, 2);
  const shadow = emaInit(new Map([["w", start]]));
  emaUpdate(shadow, new Map([["w", Float32Array.of(3, 3)]]), 0.9, 50);
  assert.deepEqual(Array.from(start), [1, 2]);
  assert.notDeepEqual(Array.from(shadow.get("w")!), [1, 2]);
  assert.throws(() => emaUpdate(shadow, new Map([["b", Float32Array.of(1)]]), 0.9, 0), /'b'/);
});
