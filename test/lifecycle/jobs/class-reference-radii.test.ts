import { test } from "node:test";
import assert from "node:assert/strict";
import { candidateRadii, classReferenceRadii } from "../../../src/lifecycle/jobs/class-reference-radii.js";

test("a class's reference radius is the median of its held-out images' farthest-slice distances", () => {
  // a: 3, 9, 5 → 5 (odd count); b: 2, 8 → 5 (mean of the middle two); an image of no class is left out.
  const got = classReferenceRadii([3, 2, 9, 8, 100, 5], ["a", "b", "a", "b", undefined, "a"]);
  assert.deepEqual(got, { a: 5, b: 5 });
  assert.deepEqual(classReferenceRadii([7], ["c"]), { c: 7 });
  assert.deepEqual(classReferenceRadii([], []), {});
  assert.throws(() => classReferenceRadii([1, 2], ["a"]), /2 distances for 1 classes/);
});

test("each candidate slice gets its frame's class radius, capped by fit's; fit's radius for no class or a class without a reference", () => {
  const r = candidateRadii(["a", undefined, "new", "b"], 2, { a: 4, b: 12 }, 9);
  assert.deepEqual([...r], [4, 4, 9, 9, 9, 9, 9, 9]);
  // A class named like an Object.prototype member has no reference unless it was measured.
  assert.deepEqual([...candidateRadii(["constructor"], 1, {}, 3)], [3]);
});
