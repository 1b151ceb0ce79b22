import { test } from "node:test";
import { tempDir } from "../support/temp-dir.js";
import assert from "node:assert/strict";
import { readFile, writeFile, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { readBundle, writeBundle, type BundleManifest } from "../../src/model/bundle.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { LafiteError } from "../../src/util/errors.js";

const manifest = (version: string): Omit<BundleManifest, "files"> => ({
  format: "lafited-bundle", formatVersion: 1, version, createdAt: "2026-01-01T00:00:00Z", config: parseModelConfig({}),
  backbone: { name: "b", file: "backbone.onnx", inputSize: 224, stages: ["s"] },
  features: { c: 1, h: 1, w: 1, mean: [0], std: [1] },
  memory: { coresetSize: 1, candidates: 1, indexType: "flat", indexFile: "coreset.faiss", vectorsFile: "coreset.f32" },
  scoring: { mode: "knn", k: 1, sigma: 4, pool: 8 },
  threshold: { value: 1, method: "m", holdoutImages: 1, holdoutScores: { min: 1, median: 1, max: 1 } },
  metrics: {}, provenance: { dataset: "d", classes: {}, trainListSha256: "x", skippedFiles: [], timings: {}, tool: "t" },
});
const badBundle = (re: RegExp) => (e: unknown) => e instanceof LafiteError && e.code === "BAD_BUNDLE" && re.test(e.message);

test("a written bundle reads back with verified files, and no temp folder is left", async (t) => {
  const dir = await tempDir(t, "lafite-bundle-");
  const out = join(dir, "b");
  await writeBundle(out, manifest("v1"), { "backbone.onnx": Uint8Array.of(1, 2, 3) });
  const b = await readBundle(out);
  assert.equal(b.manifest.version, "v1");
  assert.deepEqual(Array.from(b.file("backbone.onnx")), [1, 2, 3]);
  assert.deepEqual(await readdir(dir), ["b"]);
});

test("an existing bundle is refused without replace, and swapped atomically with it", async (t) => {
  const dir = await tempDir(t, "lafite-bundle-");
  const out = join(dir, "b");
  await writeBundle(out, manifest("v1"), { "backbone.onnx": Uint8Array.of(1) });
  await assert.rejects(writeBundle(out, manifest("v2"), { "backbone.onnx": Uint8Array.of(2) }), badBundle(/already exists/));
  assert.equal((await readBundle(out)).manifest.version, "v1");
  await writeBundle(out, manifest("v2"), { "backbone.onnx": Uint8Array.of(2) }, true);
  assert.equal((await readBundle(out)).manifest.version, "v2");
  assert.deepEqual(await readdir(dir), ["b"]);
});

test("damaged, incomplete and incompatible bundles are refused with a clear reason", async (t) => {
  const dir = await tempDir(t, "lafite-bundle-");
  const out = join(dir, "b");
  await writeBundle(out, manifest("v1"), { "backbone.onnx": Uint8Array.of(1, 2, 3) });
  await writeFile(join(out, "backbone.onnx"), Uint8Array.of(9, 9, 9));
  await assert.rejects(readBundle(out), badBundle(/backbone.onnx is damaged/));
  await rm(join(out, "backbone.onnx"));
  await assert.rejects(readBundle(out), badBundle(/missing/));
  const m = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
  await writeFile(join(out, "manifest.json"), JSON.stringify({ ...m, formatVersion: 99 }));
  await assert.rejects(readBundle(out), badBundle(/format version 99/));
  await writeFile(join(out, "manifest.json"), "{ truncated");
  await assert.rejects(readBundle(out), badBundle(/not valid JSON/));
  await assert.rejects(readBundle(join(dir, "nothing")), badBundle(/no manifest/));
});
