/** Accepting normal frames: durable record with provenance, duplicates by hash, and the guard rails. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeFixture } from "./support/lifecycle-fixture.js";
import { grayPng } from "../server/support/fake-detector.js";
import { sha256 } from "../../src/model/bundle.js";

const scored = (bytes: Uint8Array, score = 0.3) => ({ bytes, score, threshold: 0.5, modelVersion: "v1", frameId: "cam1-7", classTag: "nut" });

test("an accepted frame is stored by hash with its provenance; the same image again is a duplicate", async () => {
  const f = await makeFixture();
  try {
    const png = await grayPng(40);
    const out = await f.lifecycle.ledger.record({ kind: "normal", image: scored(png), operator: "ana", note: "glare" });
    assert.ok(out.status === "accepted");
    const r = out.record;
    assert.equal(r.sha256, sha256(png));
    assert.deepEqual([r.operator, r.note, r.frameId, r.classTag, r.modelVersion, r.score, r.threshold], ["ana", "glare", "cam1-7", "nut", "v1", 0.3, 0.5]);
    assert.match(r.file, new RegExp(`^frames/${r.sha256.slice(0, 2)}/${r.sha256}\\.png$`));
    assert.deepEqual(await readFile(join(f.dataDir, r.file)), png);
    const again = await f.lifecycle.ledger.record({ kind: "normal", image: { ...scored(png), frameId: "cam2-1" } });
    assert.ok(again.status === "duplicate" && again.record.id === r.id);
    const asDefect = await f.lifecycle.ledger.record({ kind: "defect", image: scored(png) });
    assert.equal(asDefect.status, "refused");
    assert.match(asDefect.reason, /already recorded as an accepted normal/);
  } finally {
    await f.cleanup();
  }
});

test("the daily quota refuses further normal frames until the next UTC day", async () => {
  let now = new Date("2026-11-30T10:00:00Z");
  const f = await makeFixture({ config: { ledger: { dailyQuota: 2, scoreCeiling: 2, holdoutShare: 0 } }, now: () => now });
  try {
    for (const level of [10, 20]) assert.equal((await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(level)) })).status, "accepted");
    const third = await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(30)) });
    assert.equal(third.status, "refused");
    assert.match(third.reason, /daily quota of 2/);
    // Defects are not normal frames: the quota does not apply.
    assert.equal((await f.lifecycle.ledger.record({ kind: "defect", image: scored(await grayPng(31)) })).status, "accepted");
    now = new Date("2026-12-01T00:00:01Z");
    assert.equal((await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(30)) })).status, "accepted");
  } finally {
    await f.cleanup();
  }
});

test("a frame far above the threshold needs force, and is marked forced", async () => {
  const f = await makeFixture({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const png = await grayPng(200);
    const refused = await f.lifecycle.ledger.record({ kind: "normal", image: scored(png, 1.2) });
    assert.equal(refused.status, "refused");
    assert.match(refused.reason, /above 2× the threshold/);
    assert.equal(f.lifecycle.ledger.list().length, 0);
    const forced = await f.lifecycle.ledger.record({ kind: "normal", image: scored(png, 1.2), force: true });
    assert.ok(forced.status === "accepted" && forced.record.forced);
  } finally {
    await f.cleanup();
  }
});

test("a frame like none of the model's classes needs force to be accepted as normal, and is marked forced; as a defect it needs none", async () => {
  const f = await makeFixture({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const png = await grayPng(150);
    // An empty station: read as the plate, its score under the threshold, its look 3.1 reaches from the plate's.
    const empty = { ...scored(png), readAs: "plate", lookRatio: 3.1, unlike: true };
    const refused = await f.lifecycle.ledger.record({ kind: "normal", image: empty });
    assert.equal(refused.status, "refused");
    assert.match(refused.reason, /looks like none of model v1's classes \(its look 3\.10 reaches from plate's\).*Resend with force if it is a good part/);
    assert.equal(f.lifecycle.ledger.list().length, 0);
    // Unlike by its light (a lamp failed bright): the refusal names the light.
    const bright = await f.lifecycle.ledger.record({ kind: "normal", image: { ...empty, bytes: await grayPng(155), lookRatio: 2.5, lightRatio: 2.5 } });
    assert.equal(bright.status, "refused");
    assert.match(bright.reason, /is lit like none of model v1's classes \(its light 2\.50 half-ranges from the middle of plate's normals'\): a failed lamp.*Resend with force if the light is meant to be so/);
    // Its light near, its look far: the look.
    assert.match((await f.lifecycle.ledger.record({ kind: "normal", image: { ...empty, lightRatio: 0.4 } })).reason, /looks like none of model v1's classes \(its look 3\.10/);
    assert.equal(f.lifecycle.ledger.list().length, 0);
    // Within the reach (not unlike), no force is needed.
    assert.equal((await f.lifecycle.ledger.record({ kind: "normal", image: { ...scored(await grayPng(151)), readAs: "plate", lookRatio: 1.2 } })).status, "accepted");
    const forced = await f.lifecycle.ledger.record({ kind: "normal", image: empty, force: true });
    assert.ok(forced.status === "accepted" && forced.record.forced);
    assert.match(forced.reason, /accepted with force \(like none of the model's classes\)/);
    assert.equal((await f.lifecycle.ledger.record({ kind: "defect", image: { ...empty, bytes: await grayPng(152) } })).status, "accepted");
    // Tagged with a class the model does not have (a new product), it needs none: its frames are unlike every class it has.
    const product = { ...empty, bytes: await grayPng(153), modelClasses: ["plate", "nut"] };
    assert.equal((await f.lifecycle.ledger.record({ kind: "normal", image: product, classTag: "bolt" })).status, "accepted");
    assert.equal((await f.lifecycle.ledger.record({ kind: "normal", image: { ...product, bytes: await grayPng(154) }, classTag: "plate" })).status, "refused", "a class it has");
  } finally {
    await f.cleanup();
  }
});

test("a removed frame rolls out of the next job's training set and can be accepted again", async () => {
  const f = await makeFixture({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const a = await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(50)) });
    const b = await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(60)) });
    assert.ok(a.status === "accepted" && b.status === "accepted");
    assert.deepEqual(f.lifecycle.ledger.trainingSet().map((r) => r.id), [a.record.id, b.record.id]);
    const removed = f.lifecycle.ledger.remove(a.record.id, "ana");
    assert.equal(removed.changed, true);
    assert.ok(removed.record.removedAt);
    assert.equal(f.lifecycle.ledger.remove(a.record.id).changed, false);
    assert.deepEqual(f.lifecycle.ledger.trainingSet().map((r) => r.id), [b.record.id]);
    assert.equal(f.lifecycle.ledger.list({ includeRemoved: true }).length, 2);
    const again = await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(50)) });
    assert.ok(again.status === "accepted" && again.record.id !== a.record.id);
  } finally {
    await f.cleanup();
  }
});

test("the hold-out share is picked by hash and kept out of training", async () => {
  const f = await makeFixture({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0.5 } } });
  try {
    for (let level = 0; level < 24; level++) await f.lifecycle.ledger.record({ kind: "normal", image: scored(await grayPng(level * 10)) });
    const held = f.lifecycle.ledger.holdoutNormals();
    const train = f.lifecycle.ledger.trainingSet();
    assert.equal(held.length + train.length, 24);
    assert.ok(held.length > 0 && train.length > 0, `held ${held.length}, train ${train.length}`);
    assert.ok(held.every((r) => r.holdout) && train.every((r) => !r.holdout));
  } finally {
    await f.cleanup();
  }
});
