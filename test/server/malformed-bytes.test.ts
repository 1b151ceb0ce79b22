import { test } from "node:test";
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { DetectRequestSchema, DetectResponseSchema, type DetectResponse } from "../../src/gen/lafited/v1/detector_pb.js";
import { HealthCheckResponseSchema } from "../../src/gen/grpc/health/v1/health_pb.js";
import { startHarness } from "./support/harness.js";
import { grayPng } from "./support/fake-detector.js";

const identity = (b: Buffer) => b;
const BAD = Buffer.from([0xff, 0xff, 0xff]); // field 0x1fff..., wire type 7: not protobuf

test("bytes that are not protobuf get INVALID_ARGUMENT: per frame on a Detect stream (which goes on), as the status elsewhere", async () => {
  const h = await startHarness();
  try {
    const good = Buffer.from(toBinary(DetectRequestSchema, create(DetectRequestSchema, { frameId: "g", image: { case: "encoded", value: await grayPng(9) } })));
    const one = await new Promise<grpc.ServiceError | null>((resolve) =>
      h.client.raw.makeUnaryRequest("/lafited.v1.Detector/DetectOne", identity, (b: Buffer) => fromBinary(DetectResponseSchema, b), BAD, (err) => resolve(err)),
    );
    assert.equal(one?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(one?.details ?? "", /request is not a valid lafited\.v1\.DetectRequest protobuf message/);

    const responses: DetectResponse[] = [];
    const status = await new Promise<grpc.StatusObject>((resolve) => {
      const call = h.client.raw.makeBidiStreamRequest("/lafited.v1.Detector/Detect", identity, (b: Buffer) => fromBinary(DetectResponseSchema, b));
      call.on("data", (r: DetectResponse) => responses.push(r));
      call.on("error", () => {});
      call.on("status", resolve);
      for (const m of [good, BAD, good]) call.write(m);
      call.end();
    });
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(responses.map((r) => [r.frameId, r.error?.code ?? 0]), [["g", 0], ["", grpc.status.INVALID_ARGUMENT], ["g", 0]]);

    const health = await new Promise<grpc.ServiceError | null>((resolve) =>
      h.client.raw.makeUnaryRequest("/grpc.health.v1.Health/Check", identity, (b: Buffer) => fromBinary(HealthCheckResponseSchema, b), BAD, (err) => resolve(err)),
    );
    assert.equal(health?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(health?.details ?? "", /grpc\.health\.v1\.HealthCheckRequest/);
  } finally {
    await h.stop();
  }
});
