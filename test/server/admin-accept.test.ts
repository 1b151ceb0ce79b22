/**
 * AcceptNormal / ConfirmDefect through the daemon: a frame scored by Detect
 * is accepted by its id alone (score, model version and class tag come from
 * the daemon's cache), an image is scored for the record, and the answer
 * comes after the ledger row is durable.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startAdminHarness } from "./support/admin-harness.js";
import { FakeDetector, grayPng, type FakeDetectorOptions } from "./support/fake-detector.js";
import { loadFakeDetector } from "../lifecycle/support/fake-bundle.js";
import { AcceptStatus, FrameKind } from "../../src/gen/lafited/v1/admin_pb.js";
import { sha256 } from "../../src/model/bundle.js";
import { PixelFormat } from "../../src/gen/lafited/v1/detector_pb.js";
import sharp from "sharp";


/**
 * A daemon whose model is the fake detector with `reading` (its class reading, look and light), on the version and
 * threshold of the bundle it loads, with a ledger that keeps every accepted frame (no quota, no hold-out) and asks
 * force above score 2.
 */
function startReadingHarness(reading: FakeDetectorOptions) {
  return startAdminHarness({
    config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } },
    loadBundle: async (dir) => {
      const d = await loadFakeDetector(dir);
      return new FakeDetector({ version: d.info.version, threshold: d.info.threshold, ...reading });
    },
  });
}

test("a frame scored by Detect is accepted by its frame id with the daemon's score and model version", async () => {
  const h = await startAdminHarness({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const png = await grayPng(64);
    const scored = await h.client.detectOne({ frameId: "cam1-0001", image: { case: "encoded", value: png }, classTag: "hex_nut" });
    const res = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "cam1-0001" } }, operator: "ana", note: "reflection" });
    assert.equal(res.status, AcceptStatus.ACCEPTED);
    assert.ok(res.acceptedId > 0n);
    assert.equal(res.sha256, sha256(png));
    assert.equal(res.score, scored.score);
    assert.equal(res.modelVersion, "v1");
    const list = await h.admin.listAccepted({ kind: FrameKind.NORMAL });
    assert.equal(list.frames.length, 1);
    const f = list.frames[0]!;
    assert.deepEqual([f.frameId, f.classTag, f.operator, f.note, f.modelVersion], ["cam1-0001", "hex_nut", "ana", "reflection", "v1"]);
    // The acknowledged image is on disk under its hash.
    const rec = h.lifecycle.ledger.get(Number(res.acceptedId))!;
    assert.deepEqual(await readFile(join(h.dataDir, rec.file)), png);
    const again = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "cam1-0001" } } });
    assert.equal(again.status, AcceptStatus.DUPLICATE);
    assert.equal(again.acceptedId, res.acceptedId);
  } finally {
    await h.stop();
  }
});

test("an unknown frame id and an id two streams used for different images are refused with the reason", async () => {
  const h = await startAdminHarness();
  try {
    const unknown = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "never-seen" } } });
    assert.equal(unknown.status, AcceptStatus.REFUSED);
    assert.match(unknown.reason, /not among the recently scored frames/);
    await h.client.detectMany([{ frameId: "42", image: { case: "encoded", value: await grayPng(30) } }], () => {});
    await h.client.detectMany([{ frameId: "42", image: { case: "encoded", value: await grayPng(90) } }], () => {});
    const ambiguous = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "42" } } });
    assert.equal(ambiguous.status, AcceptStatus.REFUSED);
    assert.match(ambiguous.reason, /names 2 different images .*stream 1.*stream 2/);
    assert.equal(h.lifecycle.ledger.list().length, 0);
  } finally {
    await h.stop();
  }
});

test("an image is scored with the active model for the record; a confirmed defect joins the defect set only", async () => {
  const h = await startAdminHarness({ config: { ledger: { dailyQuota: 0, scoreCeiling: 1.5, holdoutShare: 0 } } });
  try {
    const bright = await grayPng(230); // brightness 0.9 > 1.5 × 0.5
    const refused = await h.admin.acceptNormal({ frame: { source: { case: "image", value: bright } } });
    assert.equal(refused.status, AcceptStatus.REFUSED);
    assert.match(refused.reason, /looks like a real defect; resend with force/);
    const defect = await h.admin.confirmDefect({ frame: { source: { case: "image", value: bright } }, operator: "ben" });
    assert.equal(defect.status, AcceptStatus.ACCEPTED);
    assert.ok(Math.abs(defect.score - 230 / 255) < 1e-3);
    assert.equal(h.lifecycle.ledger.defects().length, 1);
    assert.equal(h.lifecycle.ledger.trainingSet().length, 0);
    const removed = await h.admin.removeAccepted({ id: defect.acceptedId, operator: "ben" });
    assert.equal(removed.changed, true);
    assert.notEqual(removed.frame?.removedAt, "");
    assert.equal(h.lifecycle.ledger.defects().length, 0);
  } finally {
    await h.stop();
  }
});

test("a raw frame accepted by id is stored as a lossless PNG of the same pixels", async () => {
  const h = await startAdminHarness({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const width = 4;
    const height = 3;
    const pixels = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 7) % 256);
    await h.client.detectOne({ frameId: "raw-1", image: { case: "raw", value: { width, height, pixelFormat: PixelFormat.BGR8, pixels } } });
    const res = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "raw-1" } } });
    assert.equal(res.status, AcceptStatus.ACCEPTED);
    const rec = h.lifecycle.ledger.get(Number(res.acceptedId))!;
    assert.match(rec.file, /\.png$/);
    const { data, info } = await sharp(join(h.dataDir, rec.file)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height, info.channels], [width, height, 3]);
    // BGR in, RGB stored.
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => pixels[i - (i % 3) + (2 - (i % 3))]!);
    assert.deepEqual(new Uint8Array(data), rgb);
  } finally {
    await h.stop();
  }
});

test("a normal frame like none of the model's classes (by its frame id or as an image) is refused unless forced", async () => {
  const h = await startReadingHarness({ readAs: "plate", lookRatio: 2.5, unlikeMargin: 1.5 });
  try {
    await h.client.detectOne({ frameId: "empty", image: { case: "encoded", value: await grayPng(60) } });
    const byId = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "empty" } }, operator: "ana" });
    assert.equal(byId.status, AcceptStatus.REFUSED);
    assert.match(byId.reason, /looks like none of model v1's classes \(its look 2\.50 reaches from plate's\)/);
    const image = await h.admin.acceptNormal({ frame: { source: { case: "image", value: await grayPng(61) } } });
    assert.equal(image.status, AcceptStatus.REFUSED);
    assert.equal(h.lifecycle.ledger.list().length, 0);
    const forced = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "empty" } }, force: true });
    assert.equal(forced.status, AcceptStatus.ACCEPTED, forced.reason);
    assert.equal(h.lifecycle.ledger.get(Number(forced.acceptedId))!.forced, true);
  } finally {
    await h.stop();
  }
});

test("a normal frame lit like none of the model's classes is refused by its frame id and as an image, the refusal naming its light", async () => {
  const h = await startReadingHarness({ readAs: "plate", lookRatio: 3, lightRatio: 3, unlikeMargin: 1.5 });
  try {
    await h.client.detectOne({ frameId: "bright", image: { case: "encoded", value: await grayPng(60) } });
    const byId = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "bright" } } });
    assert.equal(byId.status, AcceptStatus.REFUSED);
    assert.match(byId.reason, /is lit like none of model v1's classes \(its light 3\.00 half-ranges from the middle of plate's normals'\)/);
    const image = await h.admin.acceptNormal({ frame: { source: { case: "image", value: await grayPng(61) } } });
    assert.match(image.reason, /is lit like none of model v1's classes/);
    assert.equal(h.lifecycle.ledger.list().length, 0);
  } finally {
    await h.stop();
  }
});

test("a normal frame tagged with one class that reads as a class alike to it (the model confuses their normals) is accepted without force", async () => {
  const h = await startReadingHarness({ readAs: "plate", alikeClasses: { plate: ["hex nut"], "hex nut": ["plate"] } });
  try {
    await h.client.detectOne({ frameId: "twin", classTag: "hex nut", image: { case: "encoded", value: await grayPng(60) } });
    const twin = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "twin" } }, operator: "ana" });
    assert.equal(twin.status, AcceptStatus.ACCEPTED, twin.reason);
    assert.equal(h.lifecycle.ledger.get(Number(twin.acceptedId))!.forced, false);
    const image = await h.admin.acceptNormal({ frame: { source: { case: "image", value: await grayPng(61) } }, classTag: "hex nut" });
    assert.equal(image.status, AcceptStatus.ACCEPTED, image.reason);
  } finally {
    await h.stop();
  }
});

test("a normal frame tagged with one model class that reads as another is refused unless forced; a new class's tag is accepted", async () => {
  // Every frame reads as plate; the model's classes are plate and hex nut.
  const h = await startReadingHarness({ readAs: "plate" });
  try {
    const frames = [["wrong", "hex nut", 60], ["right", "plate", 61], ["new", "bolt", 62]] as const;
    for (const [frameId, classTag, gray] of frames) await h.client.detectOne({ frameId, classTag, image: { case: "encoded", value: await grayPng(gray) } });
    const wrong = await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "wrong" } }, operator: "ana" });
    assert.equal(wrong.status, AcceptStatus.REFUSED);
    assert.match(wrong.reason, /tagged hex nut but reads as plate .*a wrong part or a wrong tag.*force/);
    // Re-tagged right at acceptance, it is accepted; so are a right tag and a class the model does not have yet (a new product).
    assert.equal((await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "wrong" } }, classTag: "plate" })).status, AcceptStatus.ACCEPTED);
    assert.equal((await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "right" } } })).status, AcceptStatus.ACCEPTED);
    assert.equal((await h.admin.acceptNormal({ frame: { source: { case: "frameId", value: "new" } } })).status, AcceptStatus.ACCEPTED);
    // An image sent for the record is read the same way; force accepts it and the record says it was forced.
    const image = { source: { case: "image" as const, value: await grayPng(63) } };
    const refused = await h.admin.acceptNormal({ frame: image, classTag: "hex nut" });
    assert.equal(refused.status, AcceptStatus.REFUSED);
    const forced = await h.admin.acceptNormal({ frame: image, classTag: "hex nut", force: true });
    assert.equal(forced.status, AcceptStatus.ACCEPTED);
    assert.equal(h.lifecycle.ledger.get(Number(forced.acceptedId))!.forced, true);
    assert.deepEqual(h.lifecycle.ledger.list().map((r) => r.classTag).sort(), ["bolt", "hex nut", "plate", "plate"]);
    // A confirmed defect is not checked: a wrong part is a defect of the line it arrived on.
    await h.client.detectOne({ frameId: "wrong2", classTag: "hex nut", image: { case: "encoded", value: await grayPng(64) } });
    assert.equal((await h.admin.confirmDefect({ frame: { source: { case: "frameId", value: "wrong2" } } })).status, AcceptStatus.ACCEPTED);
  } finally {
    await h.stop();
  }
});
