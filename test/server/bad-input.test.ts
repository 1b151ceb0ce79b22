import { test } from "node:test";
import assert from "node:assert/strict";
import { status, type ServiceError } from "@grpc/grpc-js";
import { PixelFormat, Verdict, type DetectResponse } from "../../src/gen/lafited/v1/detector_pb.js";
import type { DetectRequestInit } from "../../src/server/client.js";
import { ServingStatus } from "../../src/server/client.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";

async function badInputs(): Promise<[string, DetectRequestInit, RegExp][]> {
  const png = await grayPng(90, 64, 64);
  return [
    ["garbage bytes", { frameId: "garbage", image: { case: "encoded", value: Buffer.from("this is not an image at all, just text") } }, /cannot decode image/],
    ["empty image", { frameId: "empty", image: { case: "encoded", value: new Uint8Array(0) } }, /empty/],
    ["truncated PNG", { frameId: "truncated", image: { case: "encoded", value: png.subarray(0, Math.floor(png.length / 2)) } }, /cannot decode image/],
    ["no image", { frameId: "none" }, /no image/],
    [
      "raw length mismatch",
      { frameId: "rawlen", image: { case: "raw", value: { width: 4, height: 4, pixelFormat: PixelFormat.RGB8, pixels: new Uint8Array(47) } } },
      /needs 48 bytes.*got 47/,
    ],
    [
      "declared 100000x100000 raw frame",
      { frameId: "huge", image: { case: "raw", value: { width: 100000, height: 100000, pixelFormat: PixelFormat.GRAY8, pixels: new Uint8Array(16) } } },
      /100000x100000 exceeds/,
    ],
    [
      "unknown pixel format",
      { frameId: "fmt", image: { case: "raw", value: { width: 2, height: 2, pixelFormat: 42 as PixelFormat, pixels: new Uint8Array(4) } } },
      /pixel_format 42 is unknown/,
    ],
    [
      "unset pixel format",
      { frameId: "fmt0", image: { case: "raw", value: { width: 2, height: 2, pixels: new Uint8Array(4) } } },
      /pixel_format is not set/,
    ],
    ["NaN threshold", { frameId: "nan", image: { case: "encoded", value: png }, options: { optionalThreshold: { case: "threshold", value: Number.NaN } } }, /threshold/],
  ];
}

test("DetectOne refuses each malformed frame with INVALID_ARGUMENT saying what was wrong, and keeps serving", async () => {
  const h = await startHarness();
  try {
    const good = await grayPng(200);
    for (const [what, req, message] of await badInputs()) {
      const err = (await h.client.detectOne(req).then(
        () => assert.fail(`${what}: accepted`),
        (e: unknown) => e,
      )) as ServiceError;
      assert.equal(err.code, status.INVALID_ARGUMENT, `${what}: ${err.message}`);
      assert.match(err.details, message, what);
      const ok = await h.client.detectOne({ frameId: "good", image: { case: "encoded", value: good } });
      assert.equal(ok.verdict, Verdict.NG, `${what}: server still answers`);
    }
    assert.equal(await h.client.health(), ServingStatus.SERVING);
  } finally {
    await h.stop();
  }
});

test("in a Detect stream a bad frame gets a per-frame INVALID_ARGUMENT and the stream goes on", async () => {
  const h = await startHarness();
  try {
    const good = await grayPng(10);
    const bad = await badInputs();
    const reqs: DetectRequestInit[] = [];
    for (const [, req] of bad) reqs.push({ frameId: "ok-before", image: { case: "encoded", value: good } }, req);
    reqs.push({ frameId: "ok-last", image: { case: "encoded", value: good } });
    const got: DetectResponse[] = [];
    const st = await h.client.detectMany(reqs, (r) => got.push(r));
    assert.equal(st.code, status.OK);
    assert.equal(got.length, reqs.length);
    for (const [i, r] of got.entries()) {
      assert.equal(r.frameId, reqs[i]!.frameId);
      if (r.frameId.startsWith("ok-")) {
        assert.equal(r.error, undefined);
        assert.equal(r.verdict, Verdict.OK);
      } else {
        assert.equal(r.error?.code, status.INVALID_ARGUMENT, r.frameId);
        assert.equal(r.verdict, Verdict.UNSPECIFIED);
        const expected = bad.find(([, req]) => req.frameId === r.frameId)![2];
        assert.match(r.error!.message, expected);
      }
    }
  } finally {
    await h.stop();
  }
});

test("a message over the receive limit gets RESOURCE_EXHAUSTED and the server keeps serving", async () => {
  const h = await startHarness({ config: { server: { maxReceiveMessageBytes: 1024 * 1024 } } });
  try {
    const big = { frameId: "big", image: { case: "raw" as const, value: { width: 1024, height: 1024, pixelFormat: PixelFormat.RGB8, pixels: new Uint8Array(1024 * 1024 * 3) } } };
    const err = (await h.client.detectOne(big).then(
      () => assert.fail("accepted"),
      (e: unknown) => e,
    )) as ServiceError;
    assert.equal(err.code, status.RESOURCE_EXHAUSTED, err.message);
    // In a stream, the oversized message ends that call only.
    const stream = h.client.openDetect();
    stream.sendNow(big);
    for await (const _ of stream) assert.fail("no response expected");
    assert.equal((await stream.status).code, status.RESOURCE_EXHAUSTED);
    const ok = await h.client.detectOne({ frameId: "small", image: { case: "encoded", value: await grayPng(1) } });
    assert.equal(ok.frameId, "small");
    assert.equal(await h.client.health(), ServingStatus.SERVING);
  } finally {
    await h.stop();
  }
});

test("the default receive limit takes a raw 4K RGB frame", async () => {
  const h = await startHarness();
  try {
    const w = 3840, hgt = 2160;
    const res = await h.client.detectOne({ frameId: "4k", image: { case: "raw", value: { width: w, height: hgt, pixelFormat: PixelFormat.RGB8, pixels: new Uint8Array(w * hgt * 3).fill(7) } } });
    assert.equal(res.error, undefined);
    assert.deepEqual([res.width, res.height], [w, hgt]);
  } finally {
    await h.stop();
  }
});
