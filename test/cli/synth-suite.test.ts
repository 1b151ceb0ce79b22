import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";

test("lafite synth --suite realistic --scale writes the small suite; unknown suites and misplaced flags exit 1 with the reason", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-cli-suite-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const errors: string[] = [];
  const out: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  let codes: number[];
  try {
    codes = [
      await main(["synth", "--suite", "realistic", "--out", dir, "--seed", "2", "--scale", "0.01"]),
      await main(["synth", "--suite", "photoreal", "--out", dir]),
      await main(["synth", "--suite", "realistic", "--out", dir, "--train", "3"]),
      await main(["synth", "--out", dir, "--scale", "0.5"]),
      await main(["synth", "--suite", "realistic", "--out", dir, "--scale", "0"]),
    ];
  } finally {
    process.stderr.write = writeErr;
    process.stdout.write = writeOut;
  }
  assert.deepEqual(codes, [0, 1, 1, 1, 1]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { suite: string; scale: number; complete: boolean; classes: unknown[] };
  assert.equal(manifest.suite, "realistic");
  assert.equal(manifest.scale, 0.01);
  assert.equal(manifest.complete, true);
  assert.equal(manifest.classes.length, 6);
  assert.match(out.join(""), /realistic classes/);
  const err = errors.join("");
  assert.match(err, /--suite must be one of demo, realistic, got 'photoreal'/);
  assert.match(err, /--train applies to the demo suite only/);
  assert.match(err, /--scale applies to --suite realistic only/);
  assert.match(err, /--scale must be a number in \(0, 4\], got '0'/);
});
