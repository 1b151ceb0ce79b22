/**
 * The edge correction as served: a bundle's scoring.edges corrects the maps
 * of the frames judged as its classes (the map less the profile at each
 * pixel's distance from the frame's edge), leaves the image score as it
 * was, is off with eval's --no-edge-correction, in other modes and under
 * overrides, and a malformed profile is refused at load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { placement } from "../../src/image/geometry.js";
import { correctEdges, edgeDistances, EDGE_REACH } from "../../src/model/scoring/edge-profile.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { tempDir } from "../support/temp-dir.js";
import { rewriteScoring, stripedFrame } from "../support/served-correction.js";
import { LafiteError, ErrorCode } from "../../src/util/errors.js";

const W = 64, H = 128;

const frame = (seed: number) => stripedFrame(seed, W, H);

test("a bundle's edge correction is applied to the maps of its classes' frames only, the score untouched; eval can turn it off; a bad profile is refused", async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, "data", "tall", "train", "good");
  await mkdir(good, { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i));
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ aspect: "letterbox", diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const fitted = await readBundle(out);
  assert.equal(fitted.manifest.scoring.edges, undefined, "without tuning no class is chosen");
  // A profile by hand: 3 less on the edge, 1 less one pixel in, nothing deeper.
  const profile = Array.from({ length: EDGE_REACH + 1 }, (_, d) => (d === 0 ? 3 : d === 1 ? 1 : 0));
  const rewrite = (value: unknown, to: string) => rewriteScoring(fitted, "edges", value, to);
  const corrected = join(dir, "corrected");
  await rewrite({ mode: "knn", reach: EDGE_REACH, classes: { tall: profile } }, corrected);
  const image = await decodeEncoded(await frame(42));
  const served = await loadDetector(corrected, { intraOpThreads: 1 });
  const plain = await loadDetector(corrected, { intraOpThreads: 1, edgeCorrection: false });
  try {
    assert.deepEqual(served.info.edgeCorrectedClasses, ["tall"]);
    assert.equal(plain.info.edgeCorrectedClasses, undefined);
    const a = await served.scoreImage(image);
    const b = await plain.scoreImage(image);
    assert.equal(a.judgedAs, "tall");
    assert.equal(a.score, b.score, "the image score is taken before the correction");
    const dist = edgeDistances(placement(W, H, served.info.inputSize, served.aspect), served.info.inputSize, EDGE_REACH);
    assert.deepEqual(Array.from(a.map), Array.from(correctEdges(b.map, dist, profile)));
    assert.notDeepEqual(Array.from(a.map), Array.from(b.map));
  } finally {
    await served.close();
    await plain.close();
  }
  // Another mode or an override: the maps it was not measured on, so none.
  const swept = await loadDetector(corrected, { intraOpThreads: 1, overrides: { sigma: 2 } });
  assert.equal(swept.info.edgeCorrectedClasses, undefined);
  await swept.close();
  const otherMode = join(dir, "other-mode");
  await rewrite({ mode: "edit-only", reach: EDGE_REACH, classes: { tall: profile } }, otherMode);
  const knn = await loadDetector(otherMode, { intraOpThreads: 1 });
  assert.equal(knn.info.edgeCorrectedClasses, undefined);
  await knn.close();
  const bad = join(dir, "bad");
  await rewrite({ mode: "knn", reach: EDGE_REACH, classes: { tall: [1, 2] } }, bad);
  await assert.rejects(loadDetector(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /scoring\.edges\.classes\.tall is not 33 finite numbers/.test(e.message));
});
