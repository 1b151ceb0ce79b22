/**
 * Position profiles as served: a bundle's scoring.profiles standardizes the
 * image score of a frame judged as one of its classes, (x − μ) / scale at
 * every place of the map, and its heatmap the same way, so the served map
 * stands against the threshold in the threshold's units; off with eval's
 * --no-position-profile and in other modes, shown in the model's info, and a
 * malformed profile is refused at load. In frame coordinates a frame of any
 * size is standardized by the profile brought to its placement.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { ProfileSums, positionProfile, profileGridMap, standardizeMap } from "../../src/model/scoring/position-profile.js";
import { placement } from "../../src/image/geometry.js";
import { imageScoreOf, resizeBilinear } from "../../src/model/scoring/anomaly-map.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { tempDir } from "../support/temp-dir.js";
import { rewriteScoring, stripedFrame } from "../support/served-correction.js";
import { LafiteError, ErrorCode } from "../../src/util/errors.js";
import { EDGE_REACH } from "../../src/model/scoring/edge-profile.js";

const frame = (seed: number) => stripedFrame(seed, 64, 64, 30);

test("a bundle's position profile standardizes its class's image score and its heatmap; off on request and in other modes; a bad profile is refused", async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, "data", "plates", "train", "good");
  await mkdir(good, { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i));
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const fitted = await readBundle(out);
  assert.equal(fitted.manifest.scoring.profiles, undefined, "without tuning no class is profiled");
  const rewrite = (value: unknown, to: string) => rewriteScoring(fitted, "profiles", value, to);
  const plain = await loadDetector(out, { intraOpThreads: 1 });
  const S = plain.info.inputSize;
  const grid = 28;
  // The profile of twelve unseen frames of the class, as the served maps give them.
  const normals: Float32Array[] = [];
  for (let i = 0; i < 12; i++) normals.push(profileGridMap((await plain.scoreImage(await decodeEncoded(await frame(50 + i)))).map, S, grid));
  const sums = new ProfileSums(grid * grid);
  for (const n of normals) sums.add(n);
  // Fingerprints no test frame has: every frame below is scored against all twelve.
  const record = { members: normals.map((_, i) => 7_000_000 + i), ...sums.record() };
  const profiled = join(dir, "profiled");
  await rewrite({ mode: "knn", grid, classes: { plates: record } }, profiled);
  const served = await loadDetector(profiled, { intraOpThreads: 1 });
  const off = await loadDetector(profiled, { intraOpThreads: 1, positionProfile: false });
  try {
    assert.deepEqual(served.info.profiledClasses, ["plates"]);
    assert.equal(off.info.profiledClasses, undefined);
    const p = positionProfile(normals);
    const onMap = { mean: resizeBilinear(p.mean, grid, grid, S, S), scale: resizeBilinear(p.scale, grid, grid, S, S) };
    const settings = { imageScore: fitted.manifest.scoring.imageScore ?? ("pool" as const), pool: fitted.manifest.scoring.pool, ...(fitted.manifest.scoring.top !== undefined ? { top: fitted.manifest.scoring.top } : {}) };
    for (const seed of [90, 91, 92]) {
      const image = await decodeEncoded(await frame(seed));
      const a = await served.scoreImage(image);
      const b = await off.scoreImage(image);
      const c = await plain.scoreImage(image);
      assert.equal(a.judgedAs, "plates");
      const expected = imageScoreOf(standardizeMap(b.map, onMap), S, settings);
      assert.ok(Math.abs(a.score - expected) <= 1e-4 * Math.abs(expected), `score ${a.score} is not the standardized map's ${expected}`);
      assert.notEqual(a.score, b.score);
      assert.equal(b.score, c.score, "off: the plain bundle's score");
      const z = standardizeMap(b.map, onMap);
      assert.ok(a.map.every((v, i) => Math.abs(v - z[i]!) <= 1e-4 * Math.max(1, Math.abs(z[i]!))), "the heatmap is the map standardized by the same profile");
      assert.deepEqual(b.map, c.map, "off: the plain bundle's heatmap");
    }
    // The mask a client gets (the map above the frame's threshold) of an unseen normal frame: a few places in spread units,
    // where the map in distance units stands above a threshold in spread units everywhere.
    const threshold = 3;
    const normal = await served.scoreImage(await decodeEncoded(await frame(93)));
    const above = (map: Float32Array) => map.filter((v) => v > threshold).length / map.length;
    assert.ok(above(normal.map) < 0.2, `${(100 * above(normal.map)).toFixed(1)} % of a normal frame above the threshold`);
    assert.ok(above((await off.scoreImage(await decodeEncoded(await frame(93)))).map) > 0.9, "in distance units it would be nearly all of it");
  } finally {
    await served.close();
    await off.close();
    await plain.close();
  }
  // With an edge correction too: the profile stands in for it, in the heatmap and in the model's info.
  const both = join(dir, "both");
  await rewriteScoring(await readBundle(profiled), "edges", { mode: "knn", reach: EDGE_REACH, classes: { plates: Array.from({ length: EDGE_REACH + 1 }, (_, d) => (d < 2 ? 3 : 0)) } }, both);
  const profiledOnly = await loadDetector(profiled, { intraOpThreads: 1 });
  const withEdges = await loadDetector(both, { intraOpThreads: 1 });
  const edgesOnly = await loadDetector(both, { intraOpThreads: 1, positionProfile: false });
  try {
    assert.equal(withEdges.info.edgeCorrectedClasses, undefined);
    assert.deepEqual(withEdges.info.profiledClasses, ["plates"]);
    assert.deepEqual(edgesOnly.info.edgeCorrectedClasses, ["plates"], "without its profile the class gets its edge correction");
    const image = await decodeEncoded(await frame(94));
    assert.deepEqual((await withEdges.scoreImage(image)).map, (await profiledOnly.scoreImage(image)).map);
  } finally {
    await profiledOnly.close();
    await withEdges.close();
    await edgesOnly.close();
  }
  // In another mode than it was measured in: none.
  const otherMode = join(dir, "other-mode");
  await rewrite({ mode: "edit-only", grid, classes: { plates: record } }, otherMode);
  const knn = await loadDetector(otherMode, { intraOpThreads: 1 });
  assert.equal(knn.info.profiledClasses, undefined);
  await knn.close();
  const bad = join(dir, "bad");
  await rewrite({ mode: "knn", grid, classes: { plates: { ...record, members: record.members.slice(0, 4) } } }, bad);
  await assert.rejects(loadDetector(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /position profile of class 'plates': 4 normals, under 10/.test(e.message));
});

test("a profile in frame coordinates: frames of several sizes make it, and a frame of yet another size is standardized by it brought to its own placement", async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, "data", "plates", "train", "good");
  await mkdir(good, { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await stripedFrame(i, 64, 48 + 4 * (i % 3), 30));
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const fitted = await readBundle(out);
  assert.equal(fitted.manifest.backbone.aspect, "letterbox");
  const plain = await loadDetector(out, { intraOpThreads: 1 });
  const S = plain.info.inputSize;
  const grid = 28;
  const placed = (width: number, height: number) => placement(width, height, S, "letterbox");
  // Twelve normals of three sizes, each viewed over its own placement.
  const sums = new ProfileSums(grid * grid);
  const views: Float32Array[] = [];
  for (let i = 0; i < 12; i++) {
    const height = 40 + 8 * (i % 3);
    const map = (await plain.scoreImage(await decodeEncoded(await stripedFrame(60 + i, 64, height, 30)))).map;
    views.push(profileGridMap(map, S, grid, placed(64, height)));
    sums.add(views[i]!);
  }
  const record = { members: views.map((_, i) => 8_000_000 + i), ...sums.record() };
  const profiled = join(dir, "profiled");
  await rewriteScoring(fitted, "profiles", { mode: "knn", grid, coords: "frame", classes: { plates: record } }, profiled);
  const served = await loadDetector(profiled, { intraOpThreads: 1 });
  try {
    const p = positionProfile(views);
    const settings = { imageScore: fitted.manifest.scoring.imageScore ?? ("pool" as const), pool: fitted.manifest.scoring.pool, ...(fitted.manifest.scoring.top !== undefined ? { top: fitted.manifest.scoring.top } : {}) };
    for (const height of [36, 44]) {
      const image = await decodeEncoded(await stripedFrame(95, 64, height, 30));
      const a = await served.scoreImage(image);
      const b = await plain.scoreImage(image);
      // By hand: the grid profile resized to the placement, the map standardized inside it, 0 on the border.
      const { x, y, w, h } = placed(64, height);
      assert.ok(y > 0, "a letterboxed frame");
      const mean = resizeBilinear(p.mean, grid, grid, w, h);
      const scale = resizeBilinear(p.scale, grid, grid, w, h);
      const z = new Float32Array(S * S);
      for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) z[(y + r) * S + x + q] = (b.map[(y + r) * S + x + q]! - mean[r * w + q]!) / scale[r * w + q]!;
      const expected = imageScoreOf(z, S, settings);
      assert.ok(Math.abs(a.score - expected) <= 1e-4 * Math.abs(expected), `${height}: score ${a.score} is not the standardized map's ${expected}`);
      assert.ok(a.map.every((v, i) => Math.abs(v - z[i]!) <= 1e-4 * Math.max(1, Math.abs(z[i]!))), `${height}: the heatmap is the map standardized the same way`);
    }
  } finally {
    await served.close();
    await plain.close();
  }
});
