import { test } from "node:test";
import assert from "node:assert/strict";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { startHarness } from "./support/harness.js";

test("server reflection lists the services and returns their files, so grpcurl works without .proto files", async () => {
  const h = await startHarness();
  try {
    const list = await h.client.reflect({ messageRequest: { case: "listServices", value: "*" } });
    assert.equal(list.messageResponse.case, "listServicesResponse");
    const names = list.messageResponse.case === "listServicesResponse" ? list.messageResponse.value.service.map((s) => s.name) : [];
    assert.deepEqual(new Set(names), new Set(["lafited.v1.Detector", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]));

    for (const symbol of ["lafited.v1.Detector", "lafited.v1.Detector.DetectOne", "lafited.v1.DetectResponse", "lafited.v1.PixelFormat"]) {
      const res = await h.client.reflect({ messageRequest: { case: "fileContainingSymbol", value: symbol } });
      assert.equal(res.messageResponse.case, "fileDescriptorResponse", symbol);
      if (res.messageResponse.case !== "fileDescriptorResponse") continue;
      const files = res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
      assert.equal(files[0]!.name, "lafited/v1/detector.proto");
      assert.equal(files[0]!.package, "lafited.v1");
      assert.deepEqual(files[0]!.dependency, [], "the public API imports nothing");
      const svc = files[0]!.service.find((s) => s.name === "Detector")!;
      assert.deepEqual(svc.method.map((m) => m.name), ["Detect", "DetectOne", "GetModelInfo"]);
      const detect = svc.method[0]!;
      assert.equal(detect.clientStreaming, true);
      assert.equal(detect.serverStreaming, true);
    }
    const byName = await h.client.reflect({ messageRequest: { case: "fileByFilename", value: "grpc/health/v1/health.proto" } });
    assert.equal(byName.messageResponse.case, "fileDescriptorResponse");
    const missing = await h.client.reflect({ messageRequest: { case: "fileContainingSymbol", value: "nope.Nothing" } });
    assert.equal(missing.messageResponse.case, "errorResponse");
    if (missing.messageResponse.case === "errorResponse") assert.equal(missing.messageResponse.value.errorCode, 5);
  } finally {
    await h.stop();
  }
});

test("v1alpha reflection (older grpcurl) answers the same through re-encoding", async () => {
  const { create } = await import("@bufbuild/protobuf");
  const { serviceDefinition } = await import("../../src/server/grpc-adapter.js");
  const v1alpha = await import("../../src/gen/grpc/reflection/v1alpha/reflection_pb.js");
  const h = await startHarness();
  try {
    const m = serviceDefinition(v1alpha.ServerReflection).serverReflectionInfo;
    const call = h.client.raw.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize);
    const res = await new Promise<import("../../src/gen/grpc/reflection/v1alpha/reflection_pb.js").ServerReflectionResponse>((resolve, reject) => {
      call.once("data", resolve);
      call.on("error", reject);
      call.write(create(v1alpha.ServerReflectionRequestSchema, { messageRequest: { case: "fileContainingSymbol", value: "grpc.health.v1.Health" } }));
    });
    call.end();
    assert.equal(res.messageResponse.case, "fileDescriptorResponse");
    if (res.messageResponse.case === "fileDescriptorResponse") {
      assert.equal(fromBinary(FileDescriptorProtoSchema, res.messageResponse.value.fileDescriptorProto[0]!).name, "grpc/health/v1/health.proto");
    }
  } finally {
    await h.stop();
  }
});
