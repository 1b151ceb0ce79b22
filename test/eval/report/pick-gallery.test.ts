import { test } from "node:test";
import assert from "node:assert/strict";
import { pickGallery } from "../../../src/eval/report/pick-gallery.js";

test("misses are the lowest defects, false alarms the highest goods, borderline the nearest to the threshold not already shown", () => {
  const img = (path: string, anomalous: boolean, score: number) => ({ path, anomalous, score });
  const images = [img("d1", true, 9), img("d2", true, 4), img("d3", true, 6), img("d4", true, 5.1), img("g1", false, 1), img("g2", false, 4.8), img("g3", false, 2), img("g4", false, 5.5)];
  const p = pickGallery(images, 5, 2);
  assert.deepEqual(p.misses.map((i) => i.path), ["d2", "d4"]);
  assert.deepEqual(p.falseAlarms.map((i) => i.path), ["g4", "g2"]);
  // Left: d1 (|9−5| = 4), d3 (1), g1 (4), g3 (3).
  assert.deepEqual(p.borderline.map((i) => i.path), ["d3", "g3"]);
});

test("equal scores are ordered by path, so a rerun picks the same images", () => {
  const images = ["c", "a", "b"].map((path) => ({ path, anomalous: true, score: 1 }));
  assert.deepEqual(pickGallery(images, 0, 2).misses.map((i) => i.path), ["a", "b"]);
  assert.deepEqual(pickGallery(images, 0, 2).falseAlarms, []);
});
