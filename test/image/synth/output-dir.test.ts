import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { command } from "../../../src/cli/commands/synth.js";
import { synthesizeDataset, type SynthManifest } from "../../../src/image/synth/index.js";
import { LafiteError } from "../../../src/util/errors.js";
import { listFiles, tempDir } from "./helpers.js";

const tiny = { trainPerClass: 1, testGoodPerClass: 0, testPerDefect: 0 };

test("refuses a non-empty folder that is not a synth output, unless forced", async (t) => {
  const out = await tempDir(t);
  await writeFile(path.join(out, "notes.txt"), "mine");
  await assert.rejects(
    synthesizeDataset({ out, seed: 1, ...tiny }),
    (err: unknown) => err instanceof LafiteError && err.code === "INVALID_INPUT" && /not empty/.test(err.message) && /--force/.test(err.message),
  );
  assert.deepEqual(await readdir(out), ["notes.txt"], "nothing was written");

  await synthesizeDataset({ out, seed: 1, ...tiny, force: true });
  assert.equal(await readFile(path.join(out, "notes.txt"), "utf8"), "mine", "--force does not delete foreign files");
  assert.ok((await readdir(out)).includes("manifest.json"));
});

test("a folder holding some other manifest.json is still foreign", async (t) => {
  const out = await tempDir(t);
  await writeFile(path.join(out, "manifest.json"), JSON.stringify({ generator: "something-else", classes: [{ name: "fabric" }] }));
  await assert.rejects(synthesizeDataset({ out, seed: 1, ...tiny }), /not empty/);
});

test("rewrites a previous synth output without --force and leaves no stale images", async (t) => {
  const out = await tempDir(t);
  await synthesizeDataset({ out, seed: 1, trainPerClass: 3, testGoodPerClass: 0, testPerDefect: 0 });
  await synthesizeDataset({ out, seed: 2, trainPerClass: 1, testGoodPerClass: 0, testPerDefect: 0 });
  const files = await listFiles(out);
  assert.ok(files.some((f) => f.endsWith("train/good/000.png")));
  assert.ok(!files.some((f) => f.endsWith("train/good/001.png")), "images of the earlier, larger run are gone");
  const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as SynthManifest;
  assert.equal(manifest.seed, 2);
});

test("refuses a path that is a file, bad seeds and bad counts", async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, "f");
  await writeFile(file, "x");
  await assert.rejects(synthesizeDataset({ out: file, seed: 1, ...tiny }), /not a folder/);
  await assert.rejects(synthesizeDataset({ out: path.join(dir, "a"), seed: -1 }), /seed/);
  await assert.rejects(synthesizeDataset({ out: path.join(dir, "b"), seed: 1.5 }), /seed/);
  await assert.rejects(synthesizeDataset({ out: path.join(dir, "c"), seed: 1, trainPerClass: -2 }), /train/);
});

test("cancellation stops between images, leaving whole PNGs and an incomplete manifest", async (t) => {
  const out = await tempDir(t);
  const controller = new AbortController();
  let events = 0;
  await assert.rejects(
    synthesizeDataset({
      out,
      seed: 3,
      trainPerClass: 20,
      testGoodPerClass: 0,
      testPerDefect: 0,
      signal: controller.signal,
      onProgress: (e) => {
        events++;
        assert.ok(e.done <= e.total && e.total === 60);
        if (e.done >= 2) controller.abort();
      },
    }),
    (err: unknown) => err instanceof LafiteError && err.code === "CANCELLED",
  );
  assert.ok(events > 0);
  const files = await listFiles(out);
  assert.ok(files.every((f) => f === "manifest.json" || f.endsWith(".png")), `no temp files left: ${files.join(", ")}`);
  assert.ok(files.filter((f) => f.endsWith(".png")).length < 60);
  const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as SynthManifest;
  assert.equal(manifest.complete, false);
  // The interrupted folder is recognised as ours: a rerun needs no --force.
  const again = await synthesizeDataset({ out, seed: 3, ...tiny });
  assert.equal(again.complete, true);
});

test("the CLI command writes a data set and reports usage errors as INVALID_INPUT", async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, "demo");
  const code = await command.run(["--out", out, "--seed", "4", "--train", "1", "--test", "1", "--test-defect", "1"]);
  assert.equal(code, 0);
  const manifest = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as SynthManifest;
  assert.equal(manifest.seed, 4);
  assert.deepEqual(manifest.counts, { trainPerClass: 1, testGoodPerClass: 1, testPerDefect: 1 });
  await assert.rejects(command.run(["--seed", "4"]), /--out/);
  await assert.rejects(command.run(["--out", out, "--train", "many"]), /--train must be an integer/);
  await mkdir(path.join(dir, "foreign"));
  await writeFile(path.join(dir, "foreign", "x.png"), "x");
  await assert.rejects(command.run(["--out", path.join(dir, "foreign")]), (err: unknown) => err instanceof LafiteError && err.code === "INVALID_INPUT");
});
