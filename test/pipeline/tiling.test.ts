/**
 * tileSide through fit, load, detect and eval on wide frames: the manifest
 * records it, a frame wider than tileSide is scored as two tiles, the
 * heatmap peak lands on a defect in the second tile in frame coordinates,
 * and eval's pixel metrics see the stitched map.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { fitModel } from "../../src/pipeline/fit.js";
import { loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle } from "../../src/model/bundle.js";
import { decodeEncoded } from "../../src/image/decode.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { createRng } from "../../src/model/diffusion/prng.js";
import { tempDir } from "../support/temp-dir.js";

// 2:1 and twice the tile side wide: two square tiles of 128.
const W = 256, H = 128, TILE = 128;

/** A wide frame of smooth gray stripes with mild noise; `spot` paints a dark square there. */
async function frame(seed: number, spot?: { x: number; y: number; size: number }): Promise<Buffer> {
  const rng = createRng(seed);
  const rgb = Buffer.alloc(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    let v = 140 + 40 * Math.sin(x / 5) + 10 * (rng.next() - 0.5);
    if (spot && x >= spot.x && x < spot.x + spot.size && y >= spot.y && y < spot.y + spot.size) v = 20;
    rgb.fill(Math.max(0, Math.min(255, Math.round(v))), 3 * (y * W + x), 3 * (y * W + x) + 3);
  }
  return sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
}

function spotMask(spot: { x: number; y: number; size: number }): Promise<Buffer> {
  const px = Buffer.alloc(W * H);
  for (let y = spot.y; y < spot.y + spot.size; y++) px.fill(255, y * W + spot.x, y * W + spot.x + spot.size);
  return sharp(px, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
}

test("a tiled bundle: fitted, recorded, loaded; a wide frame scores as two tiles and the heatmap peak sits on the defect", async (t) => {
  const dir = await tempDir(t);
  const data = join(dir, "data");
  const good = join(data, "wide", "train", "good");
  await mkdir(good, { recursive: true });
  for (let i = 0; i < 8; i++) await writeFile(join(good, `${i}.png`), await frame(i));
  const spot = { x: 200, y: 40, size: 14 };
  await mkdir(join(data, "wide", "test", "good"), { recursive: true });
  await mkdir(join(data, "wide", "test", "spot"), { recursive: true });
  await mkdir(join(data, "wide", "ground_truth", "spot"), { recursive: true });
  for (let i = 0; i < 3; i++) await writeFile(join(data, "wide", "test", "good", `${i}.png`), await frame(50 + i));
  for (let i = 0; i < 3; i++) {
    const s = { ...spot, x: spot.x - 20 * i };
    await writeFile(join(data, "wide", "test", "spot", `${i}.png`), await frame(60 + i, s));
    await writeFile(join(data, "wide", "ground_truth", "spot", `${i}_mask.png`), await spotMask(s));
  }
  const config = parseModelConfig({ tileSide: TILE, diffusion: { preset: "none" }, scoring: { mode: "knn" } });
  const out = join(dir, "bundle");
  await fitModel({ data, out, config, cacheDir: join(dir, "cache"), tune: false, log: () => {}, progressSink: () => {} });
  const manifest = (await readBundle(out)).manifest;
  assert.equal(manifest.backbone.tileSide, TILE);
  assert.equal(manifest.config.tileSide, TILE);

  const detector = await loadDetector(out, { intraOpThreads: 1 });
  try {
    const bytes = await frame(99, spot);
    const scored = await detector.scoreImage(await decodeEncoded(bytes));
    assert.deepEqual(scored.tiles.map((s) => s.tile), [{ x: 0, y: 0, w: 128, h: 128 }, { x: 128, y: 0, w: 128, h: 128 }]);
    const d = await detector.detect({ kind: "encoded", bytes: new Uint8Array(bytes) });
    assert.equal(d.score, scored.score);
    const map = d.frameMap();
    assert.equal(map.length, W * H);
    let best = 0;
    for (let i = 1; i < map.length; i++) if (map[i]! > map[best]!) best = i;
    const [bx, by] = [best % W, Math.floor(best / W)];
    // Within half the spot plus a feature cell (128 frame px / 28 cells ≈ 5 px) of its centre, in the second tile.
    const [cx, cy] = [spot.x + spot.size / 2, spot.y + spot.size / 2];
    assert.ok(Math.abs(bx - cx) <= 12 && Math.abs(by - cy) <= 12, `peak at (${bx}, ${by}), spot centre (${cx}, ${cy})`);
    const clean = await detector.detect({ kind: "encoded", bytes: new Uint8Array(await frame(98)) });
    assert.ok(d.score > clean.score, `defect ${d.score} vs clean ${clean.score}`);

    const report = await evaluate(detector, { data, log: () => {}, progressSink: () => {} });
    const m = report.classes["wide"]!;
    assert.equal(m.image_auroc, 1);
    assert.ok(m.pixel_auroc !== null && m.pixel_auroc > 0.95, `pixel AUROC ${m.pixel_auroc}`);
  } finally {
    await detector.close();
  }
});
