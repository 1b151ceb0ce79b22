import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { captureOutput } from "../support/capture-output.js";

test("lafite synth --variant shifted writes the shifted data set; an unknown variant exits 1 naming the choices", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-cli-variant-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { result: codes, stderr } = await captureOutput(async () => [
    await main(["synth", "--out", dir, "--seed", "2", "--variant", "shifted", "--train", "1", "--test", "0", "--test-defect", "0"]),
    await main(["synth", "--out", dir, "--variant", "sideways"]),
  ]);
  assert.deepEqual(codes, [0, 1]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { variant?: string; totalImages: number };
  assert.equal(manifest.variant, "shifted");
  assert.equal(manifest.totalImages, 3);
  assert.match(stderr, /--variant must be one of normal, shifted, got 'sideways'/);
});
