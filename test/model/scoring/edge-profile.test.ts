import { test } from "node:test";
import assert from "node:assert/strict";
import { EdgeProfileSums, correctEdges, edgeDistanceCache, edgeDistances } from "../../../src/model/scoring/edge-profile.js";

test("edge distances: to the nearest edge of the frame's placement, capped at the reach, −1 on the border", () => {
  // A 6×4 frame in an 8×8 map, at (1, 2).
  const d = edgeDistances({ x: 1, y: 2, w: 6, h: 4 }, 8, 1);
  const rows = Array.from({ length: 8 }, (_, r) => Array.from(d.subarray(r * 8, r * 8 + 8)));
  assert.deepEqual(rows, [
    [-1, -1, -1, -1, -1, -1, -1, -1],
    [-1, -1, -1, -1, -1, -1, -1, -1],
    [-1, 0, 0, 0, 0, 0, 0, -1],
    [-1, 0, 1, 1, 1, 1, 0, -1],
    [-1, 0, 1, 1, 1, 1, 0, -1],
    [-1, 0, 0, 0, 0, 0, 0, -1],
    [-1, -1, -1, -1, -1, -1, -1, -1],
    [-1, -1, -1, -1, -1, -1, -1, -1],
  ]);
  // Uncapped, the middle of a 5×5 square is 2 in.
  assert.equal(edgeDistances({ x: 0, y: 0, w: 5, h: 5 }, 5, 9)[12], 2);
  assert.throws(() => edgeDistances({ x: 4, y: 0, w: 5, h: 5 }, 8), /not inside the 8×8 map/);
  assert.throws(() => edgeDistances({ x: 0, y: 0, w: 2, h: 2 }, 2, -1), /reach -1/);
});

test("a profile is the mean normal score per distance less the deepest one's; a map corrected by it is flat where the normals were", () => {
  const dist = edgeDistances({ x: 0, y: 0, w: 4, h: 4 }, 4, 2);
  // Distances: the ring 0 (12 pixels), the middle 1 (4 pixels); reach 2 is never reached.
  const normal = (ring: number, middle: number) => Float32Array.from(dist, (d) => (d === 0 ? ring : middle));
  const sums = new EdgeProfileSums(2);
  sums.add(normal(5, 9), dist);
  sums.add(normal(7, 11), dist);
  // Ring mean 6, middle mean 10: the deepest measured distance (1) is the reference, the unmeasured one (2) gets 0.
  assert.deepEqual(sums.correction(), [-4, 0, 0]);
  assert.deepEqual(Array.from(correctEdges(normal(6, 10), dist, sums.correction()!)), Array.from({ length: 16 }, () => 10));
  // Leaving one normal out: the other's profile alone (ring 7 against middle 11).
  assert.deepEqual(sums.without(normal(5, 9), dist).correction(), [-4, 0, 0]);
  const uneven = new EdgeProfileSums(2);
  uneven.add(normal(5, 9), dist);
  uneven.add(normal(9, 9), dist);
  assert.deepEqual(uneven.correction(), [-2, 0, 0]);
  assert.deepEqual(uneven.without(normal(9, 9), dist).correction(), [-4, 0, 0]);
  assert.equal(new EdgeProfileSums(2).correction(), undefined, "no normal, no profile");
});

test("the correction is subtracted at each pixel's distance, clamped at 0, and leaves the border alone", () => {
  const dist = Int16Array.from([-1, 0, 1, 2, 3]);
  const map = Float32Array.from([4, 4, 4, 4, 4]);
  // Distances past the profile's end take its last value.
  assert.deepEqual(Array.from(correctEdges(map, dist, [1, 5, -2])), [4, 3, 0, 6, 6]);
  assert.throws(() => correctEdges(map, Int16Array.from([0]), [0]), /a map of 5 pixels and 1 distances/);
  assert.throws(() => new EdgeProfileSums(1).add(map, Int16Array.from([0])), /a map of 5 pixels and 1 distances/);
});

test("the distance cache: one array per placement, the whole square for a map without one, at most `limit` kept", () => {
  const distancesOf = edgeDistanceCache(8, 2, 2);
  const tall = { x: 2, y: 0, w: 4, h: 8 };
  const first = distancesOf({ place: tall });
  assert.deepEqual(Array.from(first), Array.from(edgeDistances(tall, 8, 2)));
  assert.equal(distancesOf({ place: { ...tall } }), first, "the same placement: the same array");
  assert.deepEqual(Array.from(distancesOf({})), Array.from(edgeDistances({ x: 0, y: 0, w: 8, h: 8 }, 8, 2)));
  // A third placement clears the two kept, so the first is computed anew.
  distancesOf({ place: { x: 0, y: 2, w: 8, h: 4 } });
  const again = distancesOf({ place: tall });
  assert.notEqual(again, first);
  assert.deepEqual(Array.from(again), Array.from(first));
});
