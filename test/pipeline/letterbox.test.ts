/**
 * aspect: letterbox and balanced, with each border, through fit, load and
 * detect on tall frames: the manifest records them (the border by default
 * too), the detector uses them, and a defect's
 * heatmap peak lands on the defect in the frame's own coordinates (the map
 * is cropped to the frame's rectangle before it is resized back).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { DEFAULT_BORDER, parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { createRng } from "../../src/model/diffusion/prng.js";
import { tempDir } from "../support/temp-dir.js";

// 1:4, so the letterbox leaves 3/4 of the input border and a stretch-mapped peak would land far off.
const W = 64, H = 256;

/** A tall frame of smooth gray stripes with mild noise; `spot` paints a dark square there. */
async function frame(seed: number, spot?: { x: number; y: number; size: number }): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let v = 140 + 40 * Math.sin(y / 6) + 10 * (rng.next() - 0.5);
    if (spot && x >= spot.x && x < spot.x + spot.size && y >= spot.y && y < spot.y + spot.size) v = 20;
    rgb.fill(Math.max(0, Math.min(255, Math.round(v))), 3 * (y * W + x), 3 * (y * W + x) + 3);
  }
  return sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}

// [aspect, border or undefined for the config's default, the border the bundle must record]
const FITS = [
  ["letterbox", undefined, DEFAULT_BORDER],
  ["letterbox", "gray", "gray"],
  ["balanced", "edge", "edge"],
] as const;

for (const [aspect, border, recorded] of FITS) {
  test(`a ${aspect} bundle, border ${recorded}${border ? "" : " (the default)"}: fitted, recorded, loaded, and its heatmap peak sits on the defect of a tall frame`, async (t) => {
    const dir = await tempDir(t);
    const good = join(dir, "data", "tall", "train", "good");
    await mkdir(good, { recursive: true });
    for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i));
    const config = parseModelConfig({ aspect, ...(border ? { border } : {}), diffusion: { preset: "none" }, scoring: { mode: "knn" } });
    const out = join(dir, "bundle");
    await fitModel({ data: join(dir, "data"), out, config, cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
    const { backbone } = (await readBundle(out)).manifest;
    assert.deepEqual([backbone.aspect, backbone.border], [aspect, recorded]);

    const detector = await loadDetector(out, { intraOpThreads: 1 });
    try {
      assert.equal(detector.aspect, aspect);
      assert.deepEqual(detector.frameFit, { aspect, border: recorded });
      const spot = { x: 4, y: 180, size: 16 };
      const d = await detector.detect({ kind: "encoded", bytes: new Uint8Array(await frame(99, spot)) });
      assert.deepEqual([d.width, d.height], [W, H]);
      const map = await d.frameMap();
      assert.equal(map.length, W * H);
      let best = 0;
      for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
      const [bx, by] = [best % W, Math.floor(best / W)];
      // Within half the spot plus half a feature cell (S/grid = 8 input px = 9 frame px here) of its centre;
      // mapped back as if stretched, the peak would sit about 15 px to the right.
      const [cx, cy] = [spot.x + spot.size / 2, spot.y + spot.size / 2];
      assert.ok(Math.abs(bx - cx) <= 12 && Math.abs(by - cy) <= 12, `peak at (${bx}, ${by}), spot centre (${cx}, ${cy})`);
      const clean = await detector.detect({ kind: "encoded", bytes: new Uint8Array(await frame(98)) });
      assert.ok(d.score > clean.score, `defect ${d.score} vs clean ${clean.score}`);

      // A wide frame exactly as wide as the input (the tall one turned a quarter clockwise, then 224×56 at S 224) still has a
      // border to crop: its map is the frame's size, and the peak is on the spot, not shifted by the border.
      const S = detector.info.inputSize;
      const [w2, h2] = [S, W * (S / H)];
      const wide = await sharp(await frame(99, spot)).rotate(90).resize(w2, h2).png().toBuffer();
      const d2 = await detector.detect({ kind: "encoded", bytes: new Uint8Array(wide) });
      const map2 = await d2.frameMap();
      assert.equal(map2.length, w2 * h2);
      let best2 = 0;
      for (let i = 1; i < map2.length; i++) if (map2[i]! > map2[best2]!) best2 = i;
      // Turned clockwise, (x, y) goes to (H − y, x); then scaled by S / H.
      const [sx, sy] = [((H - cy) * S) / H, (cx * S) / H];
      assert.ok(Math.abs((best2 % w2) - sx) <= 12 && Math.abs(Math.floor(best2 / w2) - sy) <= 12, `peak at (${best2 % w2}, ${Math.floor(best2 / w2)}), spot centre (${sx}, ${sy})`);
    } finally {
      await detector.close();
    }
  });
}
