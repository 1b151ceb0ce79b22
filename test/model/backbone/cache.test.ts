/** ensureBackbone writes the generated graph once, reuses it, and rebuilds a damaged one. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import * as ort from "onnxruntime-node";
import { ensureBackbone } from "../../../src/model/backbone/index.js";

test("the cache is reused while its hash matches, rebuilt when damaged, and keyed by the spec", async () => {
  const spec = { arch: "mobilenet_v2" as const, stages: ["block_5_add", "block_9_add"], grid: 16, pool: 3 };
  const dir = await mkdtemp(join(tmpdir(), "lafite-bb-"));
  try {
    const a = await ensureBackbone(spec, dir);
    assert.equal(a.channels, 32 + 64);
    assert.equal(a.inputSize, 224);
    assert.match(basename(a.path), /^mobilenet_v2-[0-9a-f]{16}\.onnx$/);
    assert.equal(a.sha256, createHash("sha256").update(await readFile(a.path)).digest("hex"));
    assert.deepEqual((await readdir(join(dir, "backbones"))).filter((f) => f.includes(".tmp")), [], "temp files left behind");

    const mtime = (await stat(a.path)).mtimeMs;
    const b = await ensureBackbone(spec, dir);
    assert.deepEqual(b, a);
    assert.equal((await stat(b.path)).mtimeMs, mtime, "a valid cached graph was rewritten");

    await writeFile(a.path, "truncated");
    const c = await ensureBackbone(spec, dir);
    assert.equal(c.path, a.path);
    assert.equal(c.sha256, a.sha256, "the rebuilt graph differs from the first build");

    const other = await ensureBackbone({ ...spec, grid: 8 }, dir);
    assert.notEqual(other.path, a.path);

    const session = await ort.InferenceSession.create(c.path);
    const out = await session.run({ image: new ort.Tensor("float32", new Float32Array(2 * 3 * 224 * 224).fill(90), [2, 3, 224, 224]) });
    assert.deepEqual(out.features!.dims, [2, 96, 16, 16]);
    await session.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
