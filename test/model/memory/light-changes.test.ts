import { test } from "node:test";
import assert from "node:assert/strict";
import { lightChanges, lightGrowth, reachChanges, setByLight } from "../../../src/model/memory/class-means.js";

const means = (classes: Record<string, { lo: number[]; hi: number[] } | undefined>) => ({
  spread: [1],
  classes: Object.fromEntries(Object.entries(classes).map(([cls, light]) => [cls, { count: 5, mean: [0], ...(light ? { light } : {}) }])),
});

test("lightChanges: the classes whose light range moved, before (null: none) and after, rounded to 0.1", () => {
  const before = means({ a: { lo: [10, 10, 10], hi: [50, 50, 50] }, b: { lo: [1, 2, 3], hi: [4, 5, 6] }, c: undefined });
  const after = means({ a: { lo: [10, 10, 10], hi: [50, 50, 70.04] }, b: { lo: [1, 2, 3], hi: [4, 5, 6] }, c: { lo: [1, 1, 1], hi: [2, 2, 2] } });
  assert.deepEqual(lightChanges(before, after), {
    a: { before: { lo: [10, 10, 10], hi: [50, 50, 50] }, after: { lo: [10, 10, 10], hi: [50, 50, 70] } },
    c: { before: null, after: { lo: [1, 1, 1], hi: [2, 2, 2] } },
  });
});

test("lightGrowth: the largest growth of a channel's unit (half its width, at least 12 levels); by hand", () => {
  // r 40 wide (unit 20) → 70 wide (35): 1.75; g 10 wide (unit 12) → 30 wide (15): 1.25; b unchanged.
  assert.equal(lightGrowth({ lo: [0, 0, 0], hi: [40, 10, 5] }, { lo: [0, 0, 0], hi: [70, 30, 5] }), 1.75);
  // Within the floor a range may widen without growing its unit.
  assert.equal(lightGrowth({ lo: [0, 0, 0], hi: [4, 4, 4] }, { lo: [0, 0, 0], hi: [24, 24, 24] }), 1);
});

test("reachChanges: the classes whose reach moved, before (null: none) and after, rounded to 0.001", () => {
  const at = (reaches: Record<string, number | undefined>) => ({ spread: [1], classes: Object.fromEntries(Object.entries(reaches).map(([cls, reach]) => [cls, { count: 5, mean: [0], ...(reach !== undefined ? { reach } : {}) }])) });
  assert.deepEqual(reachChanges(at({ a: 0.5, b: 0.25, c: undefined }), at({ a: 0.61234, b: 0.25, c: 0.1 })), { a: { before: 0.5, after: 0.612 }, c: { before: null, after: 0.1 } });
});

test("setByLight: the light set the look ratio when it is as large and given (0 or absent is none)", () => {
  assert.equal(setByLight(3, 3), true);
  assert.equal(setByLight(3, 2.9), false);
  assert.equal(setByLight(0, 0), false, "a response without a light ratio");
  assert.equal(setByLight(2, undefined), false);
  assert.equal(setByLight(undefined, 2), false);
});
