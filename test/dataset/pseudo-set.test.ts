import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, readdir } from "node:fs/promises";
import path from "node:path";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { PSEUDO_FILE, writePseudoSet, type PseudoRecord } from "../../src/dataset/pseudo-set.js";
import { LafiteError } from "../../src/util/errors.js";
import { listFiles, readPng, tempDir } from "../image/synth/helpers.js";
import { writeTrainSet } from "../image/pseudo/helpers.js";

async function snapshot(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const f of await listFiles(root)) files.set(f, await readFile(path.join(root, f)));
  return files;
}

test("the same seed writes byte-identical files; another seed other anomalies", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data);
  const [a, b, c] = [await tempDir(t), await tempDir(t), await tempDir(t)];
  await writePseudoSet({ data, out: a, seed: 11, perClass: 3 });
  await writePseudoSet({ data, out: b, seed: 11, perClass: 3 });
  await writePseudoSet({ data, out: c, seed: 12, perClass: 3 });
  const [sa, sb, sc] = [await snapshot(a), await snapshot(b), await snapshot(c)];
  assert.deepEqual([...sa.keys()], [...sb.keys()]);
  for (const [name, bytes] of sa) assert.ok(bytes.equals(sb.get(name)!), `${name} differs between two runs with seed 11`);
  const masks = [...sa.keys()].filter((f) => f.endsWith("_mask.png"));
  assert.equal(masks.length, 6);
  assert.ok(masks.some((f) => !sa.get(f)!.equals(sc.get(f)!)), "seed 12 draws other masks");
});

test("the output is an MVTec layout that scanDataset reads, with masks matching the samples", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 2);
  const out = await tempDir(t);
  const record = await writePseudoSet({ data, out, seed: 3, perClass: 2, crossClass: true });
  const classes = await scanDataset(out);
  assert.deepEqual(classes.map((c) => c.name).sort(), ["plate", "widget"]);
  for (const c of classes) {
    assert.equal(c.train.length, 0);
    assert.equal(c.hasMasks, true);
    assert.deepEqual(c.missingMasks, []);
    assert.deepEqual(c.test.filter((x) => !x.anomalous).map((x) => path.basename(x.path)), ["000.png", "001.png"]);
    const anomalous = c.test.filter((x) => x.anomalous);
    assert.equal(anomalous.length, 2);
    for (const x of anomalous) {
      assert.equal(x.defect, "pseudo");
      assert.ok(x.maskPath?.endsWith(`${path.basename(x.path, ".png")}_mask.png`));
      const img = await readPng(x.path);
      const mask = await readPng(x.maskPath!);
      assert.equal(img.channels, c.name === "plate" ? 1 : 3, "gray classes are stored with one channel");
      assert.equal(mask.channels, 1);
      assert.deepEqual([mask.width, mask.height], [img.width, img.height]);
      const marked = [...mask.data].filter((v) => v === 255).length;
      assert.ok([...mask.data].every((v) => v === 0 || v === 255));
      const entry = record.samples.find((s) => s.cls === c.name && s.name === path.basename(x.path, ".png"))!;
      assert.equal(marked / (img.width * img.height), entry.areaFraction);
    }
  }
  const stored = JSON.parse(await readFile(path.join(out, PSEUDO_FILE), "utf8")) as PseudoRecord;
  assert.deepEqual(stored, record);
  assert.equal(stored.complete, true);
  assert.equal(stored.crossClass, true);
  assert.deepEqual(stored.classes.find((c) => c.name === "widget")!.sources, ["widget/train/good/000.png", "widget/train/good/001.png"]);
  for (const s of stored.samples) {
    assert.ok(s.parts.length >= 1 && s.target.startsWith(`${s.cls}/train/good/`) && s.areaFraction > 0);
    assert.notEqual(s.source, s.target);
  }
  assert.ok(stored.samples.some((s) => !s.source.startsWith(`${s.cls}/`)), "cross-class: some fragment comes from the other class");
});

test("in-memory classes work without a data folder, and are recorded relative to one when given", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 2);
  const out = await tempDir(t);
  const images = [path.join(data, "widget", "train", "good", "000.png"), path.join(data, "widget", "train", "good", "001.png")];
  const record = await writePseudoSet({ classes: [{ name: "held_out", images }], out, seed: 1, perClass: 1 });
  assert.deepEqual(record.classes[0]!.sources, images, "absolute paths as given");
  assert.deepEqual(await readdir(path.join(out, "held_out", "test")), ["good", "pseudo"]);
  const relative = await writePseudoSet({ data, classes: [{ name: "held_out", images }], out: await tempDir(t), seed: 1, perClass: 1 });
  assert.deepEqual(relative.classes[0]!.sources, ["widget/train/good/000.png", "widget/train/good/001.png"]);
  assert.deepEqual(relative.samples, record.samples.map((s) => ({ ...s, target: s.target.slice(data.length + 1), source: s.source.slice(data.length + 1) })));
  await assert.rejects(writePseudoSet({ out: await tempDir(t), seed: 1, perClass: 1 }), /data set folder or a list of classes/);
  await assert.rejects(writePseudoSet({ classes: [{ name: "../up", images }], out: await tempDir(t), seed: 1, perClass: 1 }), /folder name/);
});

test("refuses a foreign non-empty folder unless forced; reruns over its own output leave no stale files", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 2);
  const out = await tempDir(t);
  await writeFile(path.join(out, "notes.txt"), "mine");
  await assert.rejects(writePseudoSet({ data, out, seed: 1, perClass: 1 }), (err: unknown) => err instanceof LafiteError && /not a previous 'lafite pseudo' output/.test(err.message));
  const fresh = await tempDir(t);
  await writePseudoSet({ data, out: fresh, seed: 1, perClass: 3 });
  await writePseudoSet({ data, out: fresh, seed: 1, perClass: 1 });
  const files = await listFiles(fresh);
  assert.ok(files.includes("widget/test/pseudo/000.png"));
  assert.ok(!files.includes("widget/test/pseudo/001.png"), "anomalies of the earlier, larger run are gone");
  assert.ok(files.every((f) => f === PSEUDO_FILE || f.endsWith(".png")), "no temp files");
});

test("a class without train/good images is named in the error", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 1);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(path.join(data, "bare", "test", "good"), { recursive: true });
  await assert.rejects(writePseudoSet({ data, out: await tempDir(t), seed: 1, perClass: 1 }), (err: unknown) => err instanceof LafiteError && err.code === "BAD_DATASET" && /bare/.test(err.message));
});

test("progress reaches the total and cancellation leaves whole files and an incomplete record", async (t) => {
  const data = await tempDir(t);
  await writeTrainSet(data, 2);
  const out = await tempDir(t);
  const lines: string[] = [];
  await writePseudoSet({ data, out, seed: 1, perClass: 2, progressSink: (l) => lines.push(l) });
  assert.match(lines.at(-1)!, /^pseudo: 8\/8 images/);

  const controller = new AbortController();
  const cut = await tempDir(t);
  let ticks = 0;
  await assert.rejects(
    writePseudoSet({
      data,
      out: cut,
      seed: 1,
      perClass: 5,
      signal: controller.signal,
      progressSink: () => {
        if (++ticks >= 1) controller.abort();
      },
    }),
    (err: unknown) => err instanceof LafiteError && err.code === "CANCELLED",
  );
  const files = await listFiles(cut);
  assert.ok(files.every((f) => f === PSEUDO_FILE || f.endsWith(".png")), `no temp files: ${files.join(", ")}`);
  const record = JSON.parse(await readFile(path.join(cut, PSEUDO_FILE), "utf8")) as PseudoRecord;
  assert.equal(record.complete, false);
  // The interrupted folder is ours: a rerun needs no --force.
  assert.equal((await writePseudoSet({ data, out: cut, seed: 1, perClass: 1 })).complete, true);
});
