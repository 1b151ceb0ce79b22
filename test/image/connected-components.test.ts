import { test } from "node:test";
import assert from "node:assert/strict";
import { labelRegions } from "../../src/image/connected-components.js";
import { LafiteError } from "../../src/util/errors.js";

const mask = (rows: string[]) => Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0));

test("diagonal neighbours join (8-connectivity); separate blobs get their own labels and sizes", () => {
  const r = labelRegions(
    mask([
      "#...#",
      ".#..#",
      "..#..",
      ".....",
      "##..#",
    ]),
    5,
    5,
  );
  // The diagonal is one region of 3 (4-connectivity would give three of 1); the right column pair
  // stays apart from it ((4,1) and (2,2) are two columns apart).
  assert.equal(r.count, 4);
  assert.deepEqual(r.sizes, [3, 2, 2, 1]);
  assert.equal(r.labels[0], 1);
  assert.equal(r.labels[6], 1);
  assert.equal(r.labels[12], 1);
  assert.equal(r.labels[4], 2);
  assert.equal(r.labels[9], 2);
  assert.equal(r.labels[20], 3);
  assert.equal(r.labels[21], 3);
  assert.equal(r.labels[24], 4);
  assert.equal(r.labels[1], 0);
});

test("an empty mask has no regions, a full one has one", () => {
  assert.equal(labelRegions(new Uint8Array(12), 4, 3).count, 0);
  const full = labelRegions(new Uint8Array(12).fill(255), 4, 3);
  assert.deepEqual(full.sizes, [12]);
});

test("a mask that does not fit its dimensions is refused", () => {
  assert.throws(() => labelRegions(new Uint8Array(10), 4, 3), LafiteError);
});
