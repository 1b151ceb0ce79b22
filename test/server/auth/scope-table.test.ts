import { test } from "node:test";
import assert from "node:assert/strict";
import { requirementOf, SCOPE_RULES } from "../../../src/server/auth/scopes.js";
import { Detector } from "../../../src/gen/lafited/v1/detector_pb.js";
import { Health } from "../../../src/gen/grpc/health/v1/health_pb.js";
import { ServerReflection as R1 } from "../../../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as R1a } from "../../../src/gen/grpc/reflection/v1alpha/reflection_pb.js";

const open = { openHealth: true, openReflection: true };

test("every method the server registers has a scope rule; Detector frames need detect, GetModelInfo read", () => {
  for (const service of [Detector, Health, R1, R1a]) {
    for (const m of service.methods) assert.notEqual(requirementOf(`/${service.typeName}/${m.name}`, open), undefined, `${service.typeName}/${m.name}`);
  }
  assert.equal(requirementOf("/lafited.v1.Detector/Detect", open), "detect");
  assert.equal(requirementOf("/lafited.v1.Detector/DetectOne", open), "detect");
  assert.equal(requirementOf("/lafited.v1.Detector/GetModelInfo", open), "read");
  assert.equal(requirementOf("/grpc.health.v1.Health/Check", open), "open");
  assert.equal(requirementOf("/grpc.health.v1.Health/Watch", { openHealth: false, openReflection: true }), "authenticated");
  assert.equal(requirementOf("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", { openHealth: true, openReflection: false }), "authenticated");
  assert.equal(requirementOf("/no.such.Service/X", open), undefined, "unknown methods are refused (fail closed)");
});

test("ModelAdmin is one table row: admin for its methods, read for ListModels and ListJobs", () => {
  const admin = ["AcceptNormal", "ListAccepted", "RemoveAccepted", "ConfirmDefect", "ActivateModel", "Rollback", "RunJob", "WatchJob"];
  for (const m of admin) assert.equal(requirementOf(`/lafited.v1.ModelAdmin/${m}`, open), "admin", m);
  for (const m of ["ListModels", "ListJobs"]) assert.equal(requirementOf(`/lafited.v1.ModelAdmin/${m}`, open), "read", m);
  assert.equal(SCOPE_RULES["lafited.v1.ModelAdmin"], "admin");
});
