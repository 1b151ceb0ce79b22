import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { captureOutput } from "../support/capture-output.js";

test("lafite synth --suite realistic --scale writes the small suite; unknown suites and misplaced flags exit 1 with the reason", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-cli-suite-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { result: codes, stdout, stderr: err } = await captureOutput(async () => [
    await main(["synth", "--suite", "realistic", "--out", dir, "--seed", "2", "--scale", "0.01"]),
    await main(["synth", "--suite", "photoreal", "--out", dir]),
    await main(["synth", "--suite", "realistic", "--out", dir, "--train", "3"]),
    await main(["synth", "--out", dir, "--scale", "0.5"]),
    await main(["synth", "--suite", "realistic", "--out", dir, "--scale", "0"]),
  ]);
  assert.deepEqual(codes, [0, 1, 1, 1, 1]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { suite: string; scale: number; complete: boolean; classes: unknown[] };
  assert.equal(manifest.suite, "realistic");
  assert.equal(manifest.scale, 0.01);
  assert.equal(manifest.complete, true);
  assert.equal(manifest.classes.length, 6);
  assert.match(stdout, /realistic classes/);
  assert.match(err, /--suite must be one of demo, realistic, got 'photoreal'/);
  assert.match(err, /--train applies to the demo suite only/);
  assert.match(err, /--scale applies to --suite realistic only/);
  assert.match(err, /--scale must be a number in \(0, 4\], got '0'/);
});

test("lafite synth --suite realistic --class makes only the named classes, optional ones (kit) included; an unknown, repeated or misplaced --class exits 1", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-cli-suite-"));
  const other = await mkdtemp(join(tmpdir(), "lafite-cli-suite-"));
  t.after(() => Promise.all([dir, other].map((d) => rm(d, { recursive: true, force: true }))));
  const { result: codes, stderr: err } = await captureOutput(async () => [
    await main(["synth", "--suite", "realistic", "--out", dir, "--scale", "0.01", "--class", "kit", "--class", "veneer"]),
    await main(["synth", "--suite", "realistic", "--out", other, "--scale", "0.01", "--class", "widget"]),
    await main(["synth", "--suite", "realistic", "--out", other, "--scale", "0.01", "--class", "kit", "--class", "kit"]),
    await main(["synth", "--out", other, "--class", "kit"]),
  ]);
  assert.deepEqual(codes, [0, 1, 1, 1]);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { classes: Array<{ name: string; defects: string[] }> };
  assert.deepEqual(manifest.classes.map((c) => [c.name, c.defects]), [["kit", ["odd_part", "two_odd"]], ["veneer", ["scratch", "contamination", "color"]]]);
  assert.match(err, /unknown realistic class 'widget' \(known: .*assembly, kit, glass_plate\)/);
  assert.match(err, /realistic class 'kit' is named twice/);
  assert.match(err, /--class applies to --suite realistic only/);
});
