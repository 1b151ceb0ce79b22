import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";

test("lafite synth --variant shifted writes the shifted data set; an unknown variant exits 1 naming the choices", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-cli-variant-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const errors: string[] = [];
  const out: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    assert.equal(await main(["synth", "--out", dir, "--seed", "2", "--variant", "shifted", "--train", "1", "--test", "0", "--test-defect", "0"]), 0);
    assert.equal(await main(["synth", "--out", dir, "--variant", "sideways"]), 1);
  } finally {
    process.stderr.write = writeErr;
    process.stdout.write = writeOut;
  }
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { variant?: string; totalImages: number };
  assert.equal(manifest.variant, "shifted");
  assert.equal(manifest.totalImages, 3);
  assert.match(errors.join(""), /--variant must be one of normal, shifted, got 'sideways'/);
});
