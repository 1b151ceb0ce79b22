import { test } from "node:test";
import assert from "node:assert/strict";
import { blend, thumbSize } from "../../../src/eval/report/gallery.js";

test("thumbnails keep the aspect ratio with the longest side at most 192, and never enlarge", () => {
  assert.deepEqual(thumbSize(900, 900), { width: 192, height: 192 });
  assert.deepEqual(thumbSize(1024, 512), { width: 192, height: 96 });
  assert.deepEqual(thumbSize(100, 60), { width: 100, height: 60 });
  assert.deepEqual(thumbSize(4000, 1), { width: 192, height: 1 });
});

test("blend composites the heatmap over the image with the heatmap's alpha", () => {
  const rgb = Uint8Array.from([100, 100, 100, 0, 0, 0]);
  const rgba = Uint8Array.from([255, 0, 0, 0, 255, 255, 255, 255]);
  assert.deepEqual([...blend(rgb, rgba)], [100, 100, 100, 255, 255, 255]);
  const half = blend(Uint8Array.from([0, 100, 200]), Uint8Array.from([200, 100, 0, 51]));
  assert.deepEqual([...half], [40, 100, 160]);
});
