import { test } from "node:test";
import assert from "node:assert/strict";
import { ClassProfile, keepsProfile, ProfileSums, positionProfile, positionProfilesProblem, profileGridMap, standardizeMap } from "../../../src/model/scoring/position-profile.js";
import { resizeBilinear } from "../../../src/model/scoring/anomaly-map.js";

const f32 = (...v: number[]) => Float32Array.from(v);

test("a profile is each position's normal mean and its spread, floored at the mean spread over the map (by hand)", () => {
  // Three normal maps of 3 positions. Position 0: 1, 2, 3 (mean 2, sd 1); position 1: 5, 5, 5 (sd 0); position 2: 0, 4, 8 (mean 4, sd 4).
  const p = positionProfile([f32(1, 5, 0), f32(2, 5, 4), f32(3, 5, 8)]);
  assert.deepEqual(Array.from(p.mean), [2, 5, 4]);
  // Mean sd over the map: (1 + 0 + 4) / 3 = 5/3; positions 0 and 1 take it, position 2 keeps its own 4.
  assert.ok(Math.abs(p.scale[0]! - 5 / 3) < 1e-6);
  assert.ok(Math.abs(p.scale[1]! - 5 / 3) < 1e-6);
  assert.equal(p.scale[2], 4);
  // A map standardized: (x − μ) / scale. 3 at position 0 is 0.6 units, 9 at position 1 is 2.4, 12 at position 2 is 2.
  const z = standardizeMap(f32(3, 9, 12), p);
  assert.ok(Math.abs(z[0]! - 0.6) < 1e-6 && Math.abs(z[1]! - 2.4) < 1e-6 && Math.abs(z[2]! - 2) < 1e-6);
});

test("a normal left out: the profile of the others, as built from them alone (brute force)", () => {
  const maps = Array.from({ length: 7 }, (_, k) => Float32Array.from({ length: 16 }, (_, i) => Math.sin(k * 1.7 + i * 0.9) * (1 + (i % 3)) + k * 0.1));
  const sums = new ProfileSums(16);
  for (const m of maps) sums.add(m);
  assert.equal(sums.count, 7);
  for (let k = 0; k < maps.length; k++) {
    const fast = sums.profileWithout(maps[k]!);
    const slow = positionProfile(maps.filter((_, j) => j !== k));
    for (let i = 0; i < 16; i++) {
      assert.ok(Math.abs(fast.mean[i]! - slow.mean[i]!) < 1e-5, `mean at ${i} without ${k}`);
      assert.ok(Math.abs(fast.scale[i]! - slow.scale[i]!) < 1e-5, `scale at ${i} without ${k}`);
    }
  }
  // All of them, as positionProfile gives.
  assert.deepEqual(sums.profile(), positionProfile(maps));
});

test("a profile refuses what it cannot standardize by: too few maps, mismatched sizes, non-finite scores, normals that never vary", () => {
  assert.throws(() => positionProfile([]), /needs normal maps/);
  assert.throws(() => positionProfile([f32(1, 2)]), /at least 2 normal maps \(got 1\)/);
  const sums = new ProfileSums(2);
  sums.add(f32(1, 2));
  assert.throws(() => sums.profileWithout(f32(1, 2)), /at least 2 normal maps \(got 0\)/);
  assert.throws(() => sums.add(f32(1, 2, 3)), /3 positions, the profile 2/);
  assert.throws(() => sums.add(f32(1, Number.NaN)), /not finite/);
  assert.equal(sums.count, 1, "a refused map is not counted");
  assert.throws(() => positionProfile([f32(1, 2), f32(1, 2)]), /do not vary anywhere/);
  assert.throws(() => standardizeMap(f32(1), positionProfile([f32(1, 2), f32(2, 2)])), /1 positions, the profile 2/);
  assert.throws(() => new ProfileSums(0), /positive integer/);
});

test("the profile grid's view of a map: block means, blocks of unequal size where the grid does not divide the side", () => {
  // 4×4 map, grid 2: four 2×2 blocks.
  const map = f32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  assert.deepEqual(Array.from(profileGridMap(map, 4, 2)), [3.5, 5.5, 11.5, 13.5]);
  // 3×3 map, grid 2: rows/cols 0–1 and 2 (floor(i·2/3): 0, 0, 1).
  const m3 = f32(1, 2, 3, 4, 5, 6, 7, 8, 9);
  assert.deepEqual(Array.from(profileGridMap(m3, 3, 2)), [3, 4.5, 7.5, 9]);
  assert.throws(() => profileGridMap(m3, 4, 2), /not 4×4/);
  assert.throws(() => profileGridMap(m3, 3, 4), /from 1 to the map side 3/);
});

test("the grid's view of a frame's rectangle (frame coordinates): block means inside it, the nearest row for blocks of a rectangle thinner than the grid (by hand)", () => {
  // 4×4 map, the 3×2 rectangle at (1, 1): rows 1–2, columns 1–3 = [6 7 8; 10 11 12].
  const map = f32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
  // Grid 2: columns {1, 2} and {3} (blocks [ceil(i·3/2), ceil((i+1)·3/2)) = [0, 2), [2, 3)), rows {1} and {2}.
  assert.deepEqual(Array.from(profileGridMap(map, 4, 2, { x: 1, y: 1, w: 3, h: 2 })), [6.5, 8, 10.5, 12]);
  // A one-row rectangle (row 2, columns 0–3) on a grid of 2: both block rows are that row.
  assert.deepEqual(Array.from(profileGridMap(map, 4, 2, { x: 0, y: 2, w: 4, h: 1 })), [9.5, 11.5, 9.5, 11.5]);
  // The whole map as a rectangle is the map's view.
  assert.deepEqual(profileGridMap(map, 4, 2, { x: 0, y: 0, w: 4, h: 4 }), profileGridMap(map, 4, 2));
  assert.throws(() => profileGridMap(map, 4, 2, { x: 2, y: 0, w: 3, h: 2 }), /3×2 at \(2, 0\) is not inside the 4×4 map/);
});

test("a served class profile in frame coordinates: the profile of rectangles of several sizes brought to a frame's placement, whatever its size; 0 on the letterbox border (brute force)", () => {
  const S = 12, grid = 3;
  // Eleven normals of three placements, each loud over its own rectangle's left third.
  const rects = [{ x: 0, y: 3, w: 12, h: 6 }, { x: 0, y: 2, w: 12, h: 8 }, { x: 3, y: 0, w: 6, h: 12 }];
  const normalOn = (rect: (typeof rects)[number], k: number) =>
    Float32Array.from({ length: S * S }, (_, i) => {
      const [y, x] = [Math.floor(i / S), i % S];
      const inside = x >= rect.x && x < rect.x + rect.w && y >= rect.y && y < rect.y + rect.h;
      return inside ? 1 + 0.3 * Math.sin(k * 1.7 + i * 0.61) + (x - rect.x < rect.w / 3 ? 5 : 0) : 9;
    });
  const normals = Array.from({ length: 11 }, (_, k) => ({ map: normalOn(rects[k % 3]!, k), rect: rects[k % 3]! }));
  const sums = new ProfileSums(grid * grid);
  for (const n of normals) sums.add(profileGridMap(n.map, S, grid, n.rect));
  const members = normals.map((_, k) => 500 + k);
  const served = new ClassProfile({ members, ...sums.record() }, grid, S, "frame");
  // The slow reference: the profile of the views, brought to the frame's rectangle by bilinear resizing, applied cell by cell.
  const reference = (map: Float32Array, rect: (typeof rects)[number], views: Float32Array[]) => {
    const p = positionProfile(views);
    const mean = resizeBilinear(p.mean, grid, grid, rect.w, rect.h);
    const scale = resizeBilinear(p.scale, grid, grid, rect.w, rect.h);
    const out = new Float32Array(S * S);
    for (let y = 0; y < rect.h; y++) for (let x = 0; x < rect.w; x++) out[(rect.y + y) * S + rect.x + x] = (map[(rect.y + y) * S + rect.x + x]! - mean[y * rect.w + x]!) / scale[y * rect.w + x]!;
    return out;
  };
  const close = (a: Float32Array, b: Float32Array, what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${what} at ${i}: ${v} against ${b[i]}`));
  const views = normals.map((n) => profileGridMap(n.map, S, grid, n.rect));
  // A frame of a fourth size, not a member.
  const rect = { x: 1, y: 0, w: 10, h: 12 };
  const frame = normalOn(rect, 40);
  const z = served.standardize(frame, 7, rect);
  close(z, reference(frame, rect, views), "non-member");
  assert.equal(z[0], 0, "the border counts as the normals' mean");
  // Member 4 against the other ten.
  const m = normals[4]!;
  close(served.standardize(m.map, 504, m.rect), reference(m.map, m.rect, views.filter((_, k) => k !== 4)), "member");
  // Without a placement (a frame of unknown size) the whole square is its rectangle.
  close(served.standardize(frame, 7), reference(frame, { x: 0, y: 0, w: S, h: S }, views), "whole square");
  // In input coordinates the placement is not looked at.
  const input = new ClassProfile({ members, ...sums.record() }, grid, S, "input");
  close(input.standardize(frame, 7, rect), served.standardize(frame, 7), "input coordinates");
});

test("a served class profile: a frame against every normal's profile, a member normal against the others' (brute force), both on the full map", () => {
  const S = 8, grid = 4;
  const maps = Array.from({ length: 11 }, (_, k) => Float32Array.from({ length: S * S }, (_, i) => 3 + Math.sin(k * 2.1 + i * 0.37) * (1 + (i % 5) / 2)));
  const sums = new ProfileSums(grid * grid);
  for (const m of maps) sums.add(profileGridMap(m, S, grid));
  const members = maps.map((_, k) => 1000 + k);
  const served = new ClassProfile({ members, ...sums.record() }, grid, S);
  const onMap = (p: { mean: Float32Array; scale: Float32Array }) => ({ mean: resizeBilinear(p.mean, grid, grid, S, S), scale: resizeBilinear(p.scale, grid, grid, S, S) });
  const close = (a: Float32Array, b: Float32Array, what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${what} at ${i}: ${v} against ${b[i]}`));
  // A frame that is not a member: the profile of all eleven.
  const frame = Float32Array.from({ length: S * S }, (_, i) => 4 + Math.cos(i));
  close(served.standardize(frame, 7), standardizeMap(frame, onMap(positionProfile(maps.map((m) => profileGridMap(m, S, grid))))), "non-member");
  // Member 3: the profile of the other ten.
  const others = maps.filter((_, k) => k !== 3).map((m) => profileGridMap(m, S, grid));
  close(served.standardize(maps[3]!, 1003), standardizeMap(maps[3]!, onMap(positionProfile(others))), "member");
  assert.throws(() => new ClassProfile({ members, ...sums.record() }, 3, S), /16 values, a 3×3 grid 9/);
});

test("a class whose heatmap is another map than its score's: each standardized by its own normals' profile (brute force); without heatmap sums, by the score's", () => {
  const S = 8, grid = 4;
  const scoreMaps = Array.from({ length: 11 }, (_, k) => Float32Array.from({ length: S * S }, (_, i) => 3 + Math.sin(k * 2.1 + i * 0.37) * (1 + (i % 5) / 2)));
  // The heatmaps: another weight's blend, higher and spread otherwise place by place.
  const heatmaps = scoreMaps.map((m, k) => Float32Array.from(m, (v, i) => 2 * v + 5 + Math.cos(k + i * 0.9) * (i % 3)));
  const sumsOf = (maps: Float32Array[]) => {
    const sums = new ProfileSums(grid * grid);
    for (const m of maps) sums.add(profileGridMap(m, S, grid));
    return sums.record();
  };
  const members = scoreMaps.map((_, k) => 2000 + k);
  const served = new ClassProfile({ members, ...sumsOf(scoreMaps), heatmap: sumsOf(heatmaps) }, grid, S);
  const onMap = (p: { mean: Float32Array; scale: Float32Array }) => ({ mean: resizeBilinear(p.mean, grid, grid, S, S), scale: resizeBilinear(p.scale, grid, grid, S, S) });
  const reference = (map: Float32Array, of: Float32Array[]) => standardizeMap(map, onMap(positionProfile(of.map((m) => profileGridMap(m, S, grid)))));
  const close = (a: Float32Array, b: Float32Array, what: string) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-4, `${what} at ${i}: ${v} against ${b[i]}`));
  const frame = Float32Array.from({ length: S * S }, (_, i) => 9 + Math.cos(i));
  close(served.standardizeHeatmap(frame, 7), reference(frame, heatmaps), "a heatmap, non-member");
  close(served.standardize(frame, 7), reference(frame, scoreMaps), "the score's map, non-member");
  // Member 5: its heatmap against the other ten heatmaps.
  close(served.standardizeHeatmap(heatmaps[5]!, 2005), reference(heatmaps[5]!, heatmaps.filter((_, k) => k !== 5)), "a heatmap, member");
  // A bundle before heatmap sums: the heatmap is standardized as the score's map is.
  const before = new ClassProfile({ members, ...sumsOf(scoreMaps) }, grid, S);
  close(before.standardizeHeatmap(frame, 7), before.standardize(frame, 7), "no heatmap sums");
  assert.throws(() => new ClassProfile({ members, ...sumsOf(scoreMaps), heatmap: { sum: [1, 2], squares: [1, 2] } }, grid, S), /2 values, a 4×4 grid 16/);
});

test("recorded profiles are checked: a malformed one names the class and what is wrong", () => {
  const grid = 2;
  const sums = new ProfileSums(4);
  for (let k = 0; k < 10; k++) sums.add(f32(k, 2 * k, 1, k % 3));
  const good = { members: Array.from({ length: 10 }, (_, k) => k), ...sums.record() };
  const of = (c: object) => positionProfilesProblem({ mode: "knn", grid, classes: { nut: c as typeof good } });
  assert.equal(of(good), undefined);
  assert.match(of({ ...good, members: [1, 2] }) ?? "", /class 'nut': 2 normals, under 10/);
  assert.match(of({ ...good, sum: [1, 2, 3] }) ?? "", /class 'nut': sums are not 2×2/);
  assert.match(of({ ...good, squares: [1, 2, 3, Number.NaN] }) ?? "", /class 'nut': a value of its sums is not a finite number/);
  assert.equal(of({ ...good, heatmap: sums.record() }), undefined);
  assert.match(of({ ...good, heatmap: { sum: [1, 2, 3], squares: [1, 2, 3] } }) ?? "", /class 'nut': heatmap sums are not 2×2/);
  assert.match(of({ ...good, heatmap: { ...sums.record(), sum: [1, 2, Number.POSITIVE_INFINITY, 4] } }) ?? "", /class 'nut': a value of its heatmap sums is not a finite number/);
  assert.match(of({ ...good, members: [0, 1, 2, 3, 4, 5, 6, 7, 8, Number.NaN] }) ?? "", /class 'nut': a member is not a finite number/);
  assert.match(positionProfilesProblem({ mode: "knn", grid: 0, classes: {} }) ?? "", /grid 0 is not a positive integer/);
  assert.equal(positionProfilesProblem({ mode: "knn", grid, coords: "frame", classes: { nut: good } }), undefined);
  assert.match(positionProfilesProblem({ mode: "knn", grid, coords: "cells" as never, classes: { nut: good } }) ?? "", /coordinates 'cells' are not one of input, frame/);
  // Sums of ten equal maps: nothing varies, so there is no scale.
  const flat = new ProfileSums(4);
  for (let k = 0; k < 10; k++) flat.add(f32(1, 1, 1, 1));
  assert.match(of({ ...good, ...flat.record() }) ?? "", /do not vary anywhere/);
});

test("a class keeps its profile where its anomalies' image AUROC rises, or ties (within half a point) and their separation rises (by hand)", () => {
  const f = (image_auroc: number | null, separation: number | null) => ({ image_auroc, separation });
  assert.equal(keepsProfile(f(0.9, 2), f(0.95, 1)), true, "AUROC up, separation down: kept");
  assert.equal(keepsProfile(f(0.9, 2), f(0.85, 9)), false, "AUROC down: dropped whatever the separation");
  assert.equal(keepsProfile(f(1, 6), f(1, 9.2)), true, "tie, farther apart: kept");
  assert.equal(keepsProfile(f(1, 5.4), f(0.998, 7.5)), true, "one pair ranked the other way is a tie: farther apart, kept");
  assert.equal(keepsProfile(f(0.9, 5), f(0.904, 4)), false, "a tie the other way: closer, dropped");
  assert.equal(keepsProfile(f(0.9, 5), f(0.906, 4)), true, "past the tie: AUROC up, kept");
  assert.equal(keepsProfile(f(1, 6), f(1, 5.9)), false, "tie, closer: dropped");
  assert.equal(keepsProfile(f(1, 6), f(1, 6)), false, "no change: dropped");
  assert.equal(keepsProfile(f(null, null), f(null, null)), false, "no anomaly: nothing to judge by");
});
