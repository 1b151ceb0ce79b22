import { test } from "node:test";
import assert from "node:assert/strict";
import { maskOutline, resizeMaskAny } from "../../../src/eval/report/outline.js";

const grid = (rows: string[]) => Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0));
const show = (m: Uint8Array, w: number) => Array.from({ length: m.length / w }, (_, y) => [...m.slice(y * w, y * w + w)].map((v) => (v ? "#" : ".")).join(""));

test("the outline is the mask's pixels with a 4-neighbour outside it or off the image", () => {
  const mask = grid(["......", ".####.", ".####.", ".####.", "......"]);
  assert.deepEqual(show(maskOutline(mask, 6, 5), 6), ["......", ".####.", ".#..#.", ".####.", "......"]);
  // At the image border every mask pixel is on the outline.
  assert.deepEqual(show(maskOutline(grid(["##", "##"]), 2, 2), 2), ["##", "##"]);
});

test("shrinking a mask keeps a one-pixel-thin defect (any source pixel sets the output pixel)", () => {
  const mask = grid(["........", "........", "........", ".######.", "........", "........", "........", "........"]);
  assert.deepEqual(show(resizeMaskAny(mask, 8, 8, 4, 4), 4), ["....", "####", "....", "...."]);
  assert.deepEqual(show(resizeMaskAny(grid(["#.", ".."]), 2, 2, 4, 4), 4), ["##..", "##..", "....", "...."]);
});
