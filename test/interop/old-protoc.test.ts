/**
 * The public proto must compile with the protoc inside Debian 12's
 * python3-grpc-tools (libprotoc 3.5.1), which predates proto3 `optional`:
 * clients on older toolchains generate code from our file as is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROTO_DIR, requirePythonGrpc, runPython } from "./support/python.js";

test("every proto/lafited/v1 file compiles with Debian's grpc_tools.protoc, messages and service stubs", async () => {
  await requirePythonGrpc();
  const files = (await readdir(join(PROTO_DIR, "lafited", "v1"))).filter((f) => f.endsWith(".proto")).map((f) => `lafited/v1/${f}`);
  assert.ok(files.includes("lafited/v1/detector.proto"), `found ${files.join(", ")}`);
  const out = await mkdtemp(join(tmpdir(), "lafite-protoc-"));
  try {
    const res = await runPython(["-m", "grpc_tools.protoc", `-I${PROTO_DIR}`, `--python_out=${out}`, `--grpc_python_out=${out}`, ...files], 60_000);
    assert.equal(res.code, 0, `protoc refused the proto:\n${res.stderr}`);
    const generated = await readdir(join(out, "lafited", "v1"));
    for (const f of files) {
      const base = f.slice("lafited/v1/".length, -".proto".length);
      assert.ok(generated.includes(`${base}_pb2.py`), `${base}_pb2.py missing (got ${generated.join(", ")})`);
    }
    assert.ok(generated.includes("detector_pb2_grpc.py"), "no service stub for Detector");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
