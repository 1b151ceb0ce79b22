import { test } from "node:test";
import assert from "node:assert/strict";
import { status } from "@grpc/grpc-js";
import { Verdict, type DetectResponse } from "../../src/gen/lafited/v1/detector_pb.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";

test("200 frames over one Detect stream come back once each, in order, with the right verdicts", async () => {
  const h = await startHarness();
  try {
    const levels = Array.from({ length: 200 }, (_, i) => (i * 37) % 256);
    const pngs = await Promise.all([...new Set(levels)].map(async (l) => [l, await grayPng(l)] as const));
    const byLevel = new Map(pngs);
    const got: DetectResponse[] = [];
    const st = await h.client.detectMany(
      levels.map((l, i) => ({ frameId: `f${i}`, image: { case: "encoded" as const, value: byLevel.get(l)! } })),
      (r) => got.push(r),
    );
    assert.equal(st.code, status.OK, st.details);
    assert.deepEqual(got.map((r) => r.frameId), levels.map((_, i) => `f${i}`));
    for (const [i, r] of got.entries()) {
      assert.equal(r.error, undefined, `frame ${i}: ${r.error?.message}`);
      assert.ok(Math.abs(r.score - levels[i]! / 255) < 1e-6, `frame ${i} score ${r.score}`);
      assert.equal(r.verdict, levels[i]! / 255 >= 0.5 ? Verdict.NG : Verdict.OK);
      assert.equal(r.threshold, 0.5);
      assert.equal(r.modelVersion, "fake-1");
      assert.equal(r.width, 32);
      assert.equal(r.height, 24);
      assert.ok(r.timings !== undefined && r.timings.totalMs >= r.timings.decodeMs);
    }
    assert.equal(h.detector.frames, 200);
  } finally {
    await h.stop();
  }
});

test("4 concurrent streams are each answered in order while health is SERVING", async () => {
  const h = await startHarness({ fake: { delayMs: 2 } });
  try {
    const png = await grayPng(100);
    const results = await Promise.all(
      [0, 1, 2, 3].map(async (s) => {
        const c = h.newClient();
        const ids: string[] = [];
        const st = await c.detectMany(
          Array.from({ length: 50 }, (_, i) => ({ frameId: `s${s}-${i}`, image: { case: "encoded" as const, value: png } })),
          (r) => ids.push(r.frameId),
        );
        return { s, ids, st };
      }),
    );
    for (const { s, ids, st } of results) {
      assert.equal(st.code, status.OK);
      assert.deepEqual(ids, Array.from({ length: 50 }, (_, i) => `s${s}-${i}`));
    }
    assert.equal(await h.client.health(""), 1 /* SERVING */);
    assert.equal(h.detector.frames, 200);
  } finally {
    await h.stop();
  }
});

/** A 40×30 gray frame at level 20 with one 6×4 block at 250 (x 5–10, y 10–13): mean 0.0965, the block over 0.5. */
function blockFrame(): { w: number; hgt: number; px: Buffer } {
  const w = 40, hgt = 30;
  const px = Buffer.alloc(w * hgt, 20);
  for (let y = 10; y < 14; y++) for (let x = 5; x < 11; x++) px[y * w + x] = 250;
  return { w, hgt, px };
}

test("DetectOne returns heatmap, mask and regions at the frame's size", async () => {
  const h = await startHarness();
  try {
    const sharp = (await import("sharp")).default;
    // Dark frame with one bright 6x4 block: the block is the only region above 0.5.
    const { w, hgt, px } = blockFrame();
    const res = await h.client.detectOne({
      frameId: "one",
      image: { case: "raw", value: { width: w, height: hgt, pixelFormat: 1, pixels: px } },
      options: { returnHeatmap: true, returnMask: true, returnRegions: true },
    });
    assert.equal(res.frameId, "one");
    assert.equal(res.verdict, Verdict.OK);
    assert.equal(res.regions.length, 1);
    const r = res.regions[0]!;
    assert.deepEqual([r.x, r.y, r.width, r.height, r.area], [5, 10, 6, 4, 24]);
    assert.ok(Math.abs(r.peakScore - 250 / 255) < 1e-6);
    const heat = await sharp(res.heatmapPng).metadata();
    assert.deepEqual([heat.width, heat.height, heat.channels], [w, hgt, 4]);
    const mask = await sharp(res.maskPng).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height], [w, hgt]);
    assert.equal(mask.data[12 * w * mask.info.channels + 7 * mask.info.channels], 255);
    assert.equal(mask.data[0], 0);
    // The threshold override changes the verdict.
    const low = await h.client.detectOne({ frameId: "low", image: { case: "raw", value: { width: w, height: hgt, pixelFormat: 1, pixels: px } }, options: { optionalThreshold: { case: "threshold", value: 0.01 } } });
    assert.equal(low.verdict, Verdict.NG);
    assert.ok(Math.abs(low.threshold - 0.01) < 1e-6);
    const info = await h.client.getModelInfo();
    assert.equal(info.version, "fake-1");
    assert.equal(info.scoringMode, "knn");
  } finally {
    await h.stop();
  }
});

test("a mask or regions of a frame at or below its threshold come without its map (empty mask, no regions); a heatmap or an NG frame asks for it", async () => {
  const h = await startHarness();
  try {
    const sharp = (await import("sharp")).default;
    // Mean level 20/255 with a bright block: OK at 0.5. Its fake map would have the block above 0.5; the real detector's
    // served map of an OK frame never does (Detection.frameMap), and the server relies on that.
    const { w, hgt, px } = blockFrame();
    const image = { case: "raw" as const, value: { width: w, height: hgt, pixelFormat: 1, pixels: px } };
    const ok = await h.client.detectOne({ frameId: "ok", image, options: { returnMask: true, returnRegions: true } });
    assert.equal(ok.verdict, Verdict.OK);
    assert.equal(h.detector.mapCalls, 0, "no map asked for");
    assert.deepEqual(ok.regions, []);
    const mask = await sharp(ok.maskPng).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height], [w, hgt]);
    assert.ok(mask.data.every((v) => v === 0), "an empty mask at the frame's size");
    // A heatmap needs the map, OK or not.
    const heat = await h.client.detectOne({ frameId: "heat", image, options: { returnHeatmap: true, returnMask: true } });
    assert.equal(h.detector.mapCalls, 1);
    assert.ok(heat.heatmapPng.length > 0 && heat.maskPng.length > 0);
    // NG (a threshold override of 0.09: under the frame's mean 0.0965, over its background 0.078): the mask and regions come from the map.
    const ng = await h.client.detectOne({ frameId: "ng", image, options: { returnMask: true, returnRegions: true, optionalThreshold: { case: "threshold", value: 0.09 } } });
    assert.equal(ng.verdict, Verdict.NG);
    assert.equal(h.detector.mapCalls, 2);
    assert.equal(ng.regions.length, 1);
    const ngMask = await sharp(ng.maskPng).raw().toBuffer({ resolveWithObject: true });
    assert.equal(ngMask.data[(12 * w + 7) * ngMask.info.channels], 255);
    assert.equal(ngMask.data[0], 0);
    // Neither: no map.
    await h.client.detectOne({ frameId: "plain", image });
    assert.equal(h.detector.mapCalls, 2);
  } finally {
    await h.stop();
  }
});
