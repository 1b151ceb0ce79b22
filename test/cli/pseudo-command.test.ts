import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { command } from "../../src/cli/commands/pseudo.js";
import { main } from "../../src/cli/main.js";
import type { PseudoRecord } from "../../src/dataset/pseudo-set.js";
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION } from "../../src/model/bundle.js";
import { LafiteError } from "../../src/util/errors.js";
import { tempDir } from "../image/synth/helpers.js";
import { writePlateSet, writeTrainSet } from "../image/pseudo/helpers.js";

function quietStdout(t: { after(fn: () => void): void }): string[] {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
  t.after(() => {
    process.stdout.write = write;
  });
  return lines;
}

type TestContext = Parameters<typeof tempDir>[0] & { after(fn: () => void): void };

/** `lafite pseudo` on a fresh two-class train set with these flags: the record it wrote and what it printed (progress on stderr silenced). */
function pseudoOnTwoClasses(t: TestContext, flags: string[]): Promise<{ record: PseudoRecord; lines: string[] }> {
  return pseudoOn(t, (data) => writeTrainSet(data, 2), flags);
}

async function pseudoOn(t: TestContext, write: (data: string) => Promise<void>, flags: string[]): Promise<{ record: PseudoRecord; lines: string[] }> {
  const data = await tempDir(t);
  await write(data);
  const out = path.join(await tempDir(t), "pv");
  const lines = quietStdout(t);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await command.run(["--data", data, "--out", out, ...flags]), 0);
  } finally {
    process.stderr.write = errWrite;
  }
  return { record: JSON.parse(await readFile(path.join(out, "pseudo.json"), "utf8")) as PseudoRecord, lines };
}

test("lafite pseudo writes the set and reports what it wrote", async (t) => {
  const { record, lines } = await pseudoOnTwoClasses(t, ["--seed", "4", "--per-class", "3", "--cross-class"]);
  assert.equal(record.seed, 4);
  assert.equal(record.perClass, 3);
  assert.equal(record.crossClass, true);
  assert.equal(record.samples.length, 6);
  assert.match(lines.join(""), /wrote 6 pseudo anomalies and 4 good images for 2 classes/);
  // The logical share defaults to tuning.logical's; --logical 0 turns it off and leaves it out of the record.
  assert.equal(record.logical, 0.5);
  assert.equal((await pseudoOnTwoClasses(t, ["--per-class", "1", "--logical", "0"])).record.logical, undefined);
  // So does the shade share, tuning.shade's: none.
  assert.equal(record.shade, undefined);
});

test("--seamless blends that share of the anomalies in and records it", async (t) => {
  const { record, lines } = await pseudoOnTwoClasses(t, ["--per-class", "4", "--seamless", "1"]);
  assert.equal(record.seamless, 1);
  assert.equal(record.samples.length, 8);
  assert.ok(record.samples.every((s) => s.blend === "seamless"));
  assert.match(lines.join(""), /wrote 8 pseudo anomalies .*; 8 blended seamlessly/);
});

test("--logical makes that share of the anomalies logical, from their target alone, and records and counts them", async (t) => {
  const { record, lines } = await pseudoOn(t, writePlateSet, ["--per-class", "12", "--logical", "1"]);
  assert.equal(record.logical, 1);
  assert.equal(record.seamless, undefined);
  assert.equal(record.samples.length, 12);
  assert.ok(record.samples.every((s) => s.logical !== undefined && s.source === s.target && s.selfPaste === undefined));
  const removed = record.samples.filter((s) => s.logical!.kind === "removed").length;
  assert.ok(removed > 0 && removed < 12, `${removed} of 12 removed`);
  assert.match(lines.join(""), new RegExp(`wrote 12 pseudo anomalies .*; 12 logical \\(${removed} parts removed, ${12 - removed} added\\)`));
  // Noise textures have no parts to move: every anomaly is a pasted fragment.
  const texture = await pseudoOnTwoClasses(t, ["--per-class", "3", "--logical", "1"]);
  assert.ok(texture.record.samples.every((s) => s.logical === undefined));
  assert.match(texture.lines.join(""), /; 0 logical \(0 parts removed, 0 added\)/);
  await assert.rejects(pseudoOnTwoClasses(t, ["--logical", "1.5"]), (err: unknown) => err instanceof LafiteError && /--logical/.test(err.message));
});

test("--shade shades that share of the anomalies in place, from their target alone, and records and counts them", async (t) => {
  const { record, lines } = await pseudoOnTwoClasses(t, ["--per-class", "6", "--shade", "1"]);
  assert.equal(record.shade, 1);
  assert.equal(record.samples.length, 12);
  assert.ok(record.samples.every((s) => s.shade === true && s.source === s.target && s.paste.dx === 0 && s.paste.dy === 0 && s.selfPaste === undefined));
  assert.match(lines.join(""), /wrote 12 pseudo anomalies .*; 12 shaded in place/);
  const none = await pseudoOnTwoClasses(t, ["--per-class", "6"]);
  assert.ok(none.record.samples.every((s) => s.shade === undefined));
  assert.doesNotMatch(none.lines.join(""), /shaded/);
  await assert.rejects(pseudoOnTwoClasses(t, ["--shade", "-1"]), (err: unknown) => err instanceof LafiteError && /--shade/.test(err.message));
});

test("--warp warps that share of the anomalies in place, from their target alone, and records and counts them", async (t) => {
  const { record, lines } = await pseudoOnTwoClasses(t, ["--per-class", "6", "--warp", "1"]);
  assert.equal(record.warp, 1);
  assert.equal(record.samples.length, 12);
  assert.ok(record.samples.every((s) => s.warp !== undefined && s.source === s.target && s.paste.dx === 0 && s.paste.dy === 0 && s.selfPaste === undefined));
  assert.match(lines.join(""), /wrote 12 pseudo anomalies .*; 12 warped in place/);
  const none = await pseudoOnTwoClasses(t, ["--per-class", "6"]);
  assert.ok(none.record.samples.every((s) => s.warp === undefined));
  assert.equal(none.record.warp, undefined);
  assert.doesNotMatch(none.lines.join(""), /warped/);
  await assert.rejects(pseudoOnTwoClasses(t, ["--warp", "2"]), (err: unknown) => err instanceof LafiteError && /--warp/.test(err.message));
});

test("--holdout builds the set from the bundle's held-out training images only", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 3);
  // Only the manifest matters here: the provenance a fit records, with no model files.
  const bundle = path.join(await tempDir(t), "b");
  await mkdir(bundle);
  const holdoutFiles = ["widget/train/good/001.png", "widget/train/good/002.png", "plate/train/good/000.png"];
  await writeFile(path.join(bundle, "manifest.json"), JSON.stringify({ format: BUNDLE_FORMAT, formatVersion: BUNDLE_FORMAT_VERSION, files: {}, provenance: { holdoutFiles } }));
  const out = path.join(await tempDir(t), "pv");
  quietStdout(t);
  const errWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(await command.run(["--data", data, "--out", out, "--per-class", "2", "--holdout", bundle]), 0);
  } finally {
    process.stderr.write = errWrite;
  }
  const record = JSON.parse(await readFile(path.join(out, "pseudo.json"), "utf8")) as PseudoRecord;
  assert.deepEqual(record.classes.map((c) => [c.name, c.sources]), [
    ["widget", holdoutFiles.slice(0, 2)],
    ["plate", holdoutFiles.slice(2)],
  ]);
  assert.ok(record.samples.every((s) => holdoutFiles.includes(s.target) && holdoutFiles.includes(s.source)));
  await assert.rejects(command.run(["--data", data, "--out", out, "--holdout", path.join(bundle, "missing")]), (err: unknown) => err instanceof LafiteError && err.code === "BAD_BUNDLE");
});

test("missing flags and bad counts are usage errors naming the flag", async (t) => {
  const data = await tempDir(t);
  const out = path.join(data, "out");
  const usage = (err: unknown, re: RegExp) => err instanceof LafiteError && err.code === "INVALID_INPUT" && re.test(err.message);
  await assert.rejects(command.run(["--out", out]), (e) => usage(e, /--data/));
  await assert.rejects(command.run(["--data", data]), (e) => usage(e, /--out/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--per-class", "many"]), (e) => usage(e, /--per-class must be an integer/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--per-class=-1"]), (e) => usage(e, /--per-class must be an integer from 0/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--per-class", "100000"]), (e) => usage(e, /--per-class/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--seed", "1.5"]), (e) => usage(e, /--seed/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--seamless", "2"]), (e) => usage(e, /--seamless must be a number from 0 to 1/));
  await assert.rejects(command.run(["--data", data, "--out", out, "--seamless", "half"]), (e) => usage(e, /--seamless/));
  await assert.rejects(command.run(["--data", path.join(data, "nope"), "--out", out]), (err: unknown) => err instanceof LafiteError && err.code === "BAD_DATASET");
});

test("the dispatcher knows the command and exits 1 on a usage error", async (t) => {
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  t.after(() => {
    process.stderr.write = write;
  });
  assert.equal(await main(["pseudo", "--out", "/nonexistent/x"]), 1);
  assert.match(errors.join(""), /lafite pseudo: missing required flag --data/);
});
