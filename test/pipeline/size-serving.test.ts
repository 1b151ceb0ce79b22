/**
 * The size correction as served: a bundle's scoring.sizes multiplies the map
 * and the score of a frame judged as one of its classes by that class's
 * factor for the frame's long side (clamped to the normals' range); it is
 * off with eval's --no-size-correction and in other modes, shown in the
 * model's info, and a malformed trend is refused at load.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { sizeFactor, type SizeTrend } from "../../src/model/scoring/size-trend.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { tempDir } from "../support/temp-dir.js";
import { rewriteScoring, stripedFrame } from "../support/served-correction.js";
import { LafiteError, ErrorCode } from "../../src/util/errors.js";

const frame = (seed: number, width: number, height: number) => stripedFrame(seed, width, height);

test("a bundle's size correction scales the map and score of its class's frames by the trend's factor; off on request and in other modes; a bad trend is refused", async (t) => {
  const dir = await tempDir(t);
  const good = join(dir, "data", "tiles", "train", "good");
  await mkdir(good, { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i, 40 + 8 * i, 96));
  const out = join(dir, "bundle");
  await fitModel({ data: join(dir, "data"), out, config: parseModelConfig({ aspect: "letterbox", diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const fitted = await readBundle(out);
  assert.equal(fitted.manifest.scoring.sizes, undefined, "without tuning no class is measured");
  const rewrite = (value: unknown, to: string) => rewriteScoring(fitted, "sizes", value, to);
  // Scores fall with the long side as L^−0.5 about a 64-px frame, over 48–80 px.
  const trend: SizeTrend = { slope: -0.5, center: Math.log(64), minSide: 48, maxSide: 80 };
  const corrected = join(dir, "corrected");
  await rewrite({ mode: "knn", classes: { tiles: trend } }, corrected);
  const served = await loadDetector(corrected, { intraOpThreads: 1 });
  const plain = await loadDetector(corrected, { intraOpThreads: 1, sizeCorrection: false });
  try {
    assert.deepEqual(served.info.sizeCorrectedClasses, ["tiles"]);
    assert.equal(plain.info.sizeCorrectedClasses, undefined);
    // Inside the range (a 96-px long side is clamped to 80), and a frame of the class's centre size.
    for (const [width, height, side] of [[72, 60, 72], [50, 96, 80], [64, 30, 64]] as const) {
      const image = await decodeEncoded(await frame(100 + width, width, height));
      const a = await served.scoreImage(image);
      const b = await plain.scoreImage(image);
      assert.equal(a.judgedAs, "tiles");
      const factor = sizeFactor(trend, side);
      assert.ok(Math.abs(factor - Math.sqrt(side / 64)) < 1e-12);
      assert.ok(Math.abs(a.score - b.score * factor) <= 1e-5 * b.score, `${width}×${height}: score ${a.score} is not ${b.score} × ${factor}`);
      let worst = 0;
      for (let i = 0; i < a.map.length; i++) worst = Math.max(worst, Math.abs(a.map[i]! - b.map[i]! * factor));
      assert.ok(worst <= 1e-5 * Math.max(...b.map), `${width}×${height}: the map is not scaled by the factor (off by ${worst})`);
      if (side !== 64) assert.notEqual(a.score, b.score);
    }
  } finally {
    await served.close();
    await plain.close();
  }
  // In another mode than it was measured in: none.
  const otherMode = join(dir, "other-mode");
  await rewrite({ mode: "edit-only", classes: { tiles: trend } }, otherMode);
  const knn = await loadDetector(otherMode, { intraOpThreads: 1 });
  assert.equal(knn.info.sizeCorrectedClasses, undefined);
  await knn.close();
  const bad = join(dir, "bad");
  await rewrite({ mode: "knn", classes: { tiles: { ...trend, minSide: 0 } } }, bad);
  await assert.rejects(loadDetector(bad), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /scoring\.sizes\.classes\.tiles is not/.test(e.message));
});
