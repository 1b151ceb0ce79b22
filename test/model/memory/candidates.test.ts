import { test } from "node:test";
import assert from "node:assert/strict";
import { candidateIds, candidatesPerClass, waterFill, weightedFill } from "../../../src/model/memory/candidates.js";

test("waterFill: hand-computed splits", () => {
  assert.deepEqual(waterFill([10, 10, 10], 9), [3, 3, 3]);
  // 10 over three: 3 each, the one left over goes to the first group.
  assert.deepEqual(waterFill([10, 10, 10], 10), [4, 3, 3]);
  // The small group is capped at 2; its unused 2 of the even 4 go to the others.
  assert.deepEqual(waterFill([2, 100, 100], 12), [2, 5, 5]);
  assert.deepEqual(waterFill([2, 3, 100], 30), [2, 3, 25]);
  // More asked than there is: everything.
  assert.deepEqual(waterFill([2, 3], 99), [2, 3]);
  assert.deepEqual(waterFill([0, 5], 3), [0, 3]);
  assert.deepEqual(waterFill([], 3), []);
});

test("waterFill: never above capacity, sums to the count, open shares differ by at most one", () => {
  for (let seed = 1; seed < 200; seed++) {
    const caps = Array.from({ length: 1 + (seed % 7) }, (_, i) => ((seed * 7919 + i * 104729) % 50) + (i % 3 === 0 ? 0 : 1));
    const total = caps.reduce((a, b) => a + b, 0);
    const count = (seed * 31) % (total + 5);
    const share = waterFill(caps, count);
    assert.equal(share.reduce((a, b) => a + b, 0), Math.min(count, total));
    share.forEach((s, i) => assert.ok(s >= 0 && s <= caps[i]!));
    const open = share.filter((s, i) => s < caps[i]!);
    if (open.length > 0) assert.ok(Math.max(...open) - Math.min(...open) <= 1, `caps ${caps} count ${count} → ${share}`);
    // A group below its capacity never gets less than a full one.
    for (let i = 0; i < share.length; i++) if (share[i]! < caps[i]!) for (const s of share) assert.ok(s <= share[i]! + 1);
  }
});

/** 40 images of "big", 3 of "small", 10 of "mid": the unequal classes the stratified and balanced tests split 300 candidates over. */
const MIXED_CLASSES = [...Array(40).fill("big"), ...Array(3).fill("small"), ...Array(10).fill("mid")] as string[];

function classOf(id: number, classes: readonly string[], hw: number): string {
  return classes[Math.floor(id / hw)]!;
}

test("candidateIds: all slices when the budget covers them", () => {
  const ids = candidateIds({ imageClasses: ["a", "a", "b"], positionsPerImage: 4, count: 50, seed: 1, sampling: "stratified" });
  assert.deepEqual(Array.from(ids), Array.from({ length: 12 }, (_, i) => i));
});

test("candidateIds uniform: distinct, sorted, in range, seeded", () => {
  const plan = { imageClasses: Array.from({ length: 30 }, (_, i) => (i < 25 ? "big" : "small")), positionsPerImage: 16, count: 100, seed: 3, sampling: "uniform" as const };
  const ids = candidateIds(plan);
  assert.equal(ids.length, 100);
  assert.equal(new Set(ids).size, 100);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
  assert.ok(ids[0]! >= 0 && ids[ids.length - 1]! < 30 * 16);
  assert.deepEqual(candidateIds(plan), ids);
  assert.notDeepEqual(candidateIds({ ...plan, seed: 4 }), ids);
});

test("candidateIds stratified: equal share per class, small classes whole, images within one of each other", () => {
  const hw = 16;
  // 40 images of "big", 3 of "small" (48 slices), 10 of "mid" (160 slices); 300 candidates → share 100 each, small gives 52 back.
  const imageClasses = MIXED_CLASSES;
  const ids = candidateIds({ imageClasses, positionsPerImage: hw, count: 300, seed: 9, sampling: "stratified" });
  assert.equal(new Set(ids).size, 300);
  const perClass = new Map<string, number>();
  const perImage = new Map<number, number>();
  for (const id of ids) {
    const cls = classOf(id, imageClasses, hw);
    perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
    perImage.set(Math.floor(id / hw), (perImage.get(Math.floor(id / hw)) ?? 0) + 1);
  }
  assert.equal(perClass.get("small"), 48);
  assert.equal(perClass.get("big"), 126);
  assert.equal(perClass.get("mid"), 126);
  for (const cls of ["big", "mid"]) {
    const counts = imageClasses.map((c, i) => (c === cls ? perImage.get(i) ?? 0 : -1)).filter((n) => n >= 0);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${cls}: ${counts}`);
  }
  assert.deepEqual(candidateIds({ imageClasses, positionsPerImage: hw, count: 300, seed: 9, sampling: "stratified" }), ids);
});

test("weightedFill: shares in proportion to weights, capped, by largest remainder", () => {
  assert.deepEqual(weightedFill([100, 100], [1, 3], 40), [10, 30]);
  // The capped group's excess goes to the other in proportion.
  assert.deepEqual(weightedFill([5, 100, 100], [1, 1, 2], 40), [5, 12, 23]);
  // 640, 48 and 160 slices weighted by their square roots: 169.12, 46.32, 84.56 → the one unit left goes to the largest remainder (84.56).
  assert.deepEqual(weightedFill([640, 48, 160], [Math.sqrt(640), Math.sqrt(48), Math.sqrt(160)], 300), [169, 46, 85]);
  // Equal weights are water-filling.
  assert.deepEqual(weightedFill([10, 10, 10], [2, 2, 2], 10), [4, 3, 3]);
  assert.deepEqual(weightedFill([2, 3], [1, 5], 99), [2, 3]);
});

test("candidateIds balanced: class shares ∝ √(class slices), between uniform and stratified", () => {
  const hw = 16;
  const imageClasses = MIXED_CLASSES;
  const ids = candidateIds({ imageClasses, positionsPerImage: hw, count: 300, seed: 9, sampling: "balanced" });
  assert.equal(new Set(ids).size, 300);
  const perClass = new Map<string, number>();
  for (const id of ids) {
    const cls = classOf(id, imageClasses, hw);
    perClass.set(cls, (perClass.get(cls) ?? 0) + 1);
  }
  assert.deepEqual([perClass.get("big"), perClass.get("small"), perClass.get("mid")], [169, 46, 85]);
});

test("candidatesPerClass: the counts candidateIds draws per class (stratified, balanced), the expectation for uniform", () => {
  const hw = 10;
  const slices = [40 * hw, 3 * hw, 10 * hw]; // big, small, mid as in MIXED_CLASSES
  for (const sampling of ["stratified", "balanced"] as const) {
    const ids = candidateIds({ imageClasses: MIXED_CLASSES, positionsPerImage: hw, count: 300, seed: 3, sampling });
    const drawn = ["big", "small", "mid"].map((k) => [...ids].filter((id) => classOf(id, MIXED_CLASSES, hw) === k).length);
    assert.deepEqual(candidatesPerClass(slices, 300, sampling), drawn, sampling);
  }
  // Uniform: 300 of 530 in proportion, rounded.
  assert.deepEqual(candidatesPerClass(slices, 300, "uniform"), [226, 17, 57]);
  // All of them when the budget covers every slice.
  assert.deepEqual(candidatesPerClass(slices, 999, "balanced"), slices);
});
