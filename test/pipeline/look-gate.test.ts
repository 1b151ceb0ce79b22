/**
 * The look gate end to end: fit records each class's reach (how far its
 * normals' mean features lie from its mean), a detector reports every
 * frame's look ratio, and a frame like none of the classes (a uniform frame:
 * an empty station) is NG whatever its score, in detect, in eval's verdicts
 * and in the daemon's answer; margin 0 turns the gate off, a bad margin is
 * refused, and a bundle without reaches has no gate. Fit also records each
 * class's light range, and a normal frame 60 levels brighter (a lamp failed
 * bright) is unlike by its light.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { fitModel } from "../../src/pipeline/fit.js";
import { DEFAULT_UNLIKE_MARGIN, loadDetector } from "../../src/pipeline/load.js";
import { parseModelConfig } from "../../src/model/model-config.js";
import { readBundle, writeBundle } from "../../src/model/bundle.js";
import { evaluate } from "../../src/eval/evaluate.js";
import { tempDir } from "../support/temp-dir.js";
import { stripedFrame } from "../support/served-correction.js";

/** A frame `levels` brighter, clipped at 255: the same part under a lamp gone bright. */
const brighter = async (png: Buffer, levels: number) => sharp(png).linear(1, levels).png().toBuffer();
const uniform = (v: number) => sharp({ create: { width: 64, height: 48, channels: 3, background: { r: v, g: v, b: v } } }).png().toBuffer();

test("fit records each class's reach; a frame like no class is NG whatever its score, in detect and eval; margin 0 reports without acting; no reaches, no gate", async (t) => {
  const dir = await tempDir(t);
  const data = join(dir, "data");
  const good = join(data, "plates", "train", "good");
  const testGood = join(data, "plates", "test", "good");
  const testOdd = join(data, "plates", "test", "empty");
  await mkdir(good, { recursive: true });
  await mkdir(testGood, { recursive: true });
  await mkdir(testOdd, { recursive: true });
  const frame = (seed: number) => stripedFrame(seed, 64, 48, 30);
  for (let i = 0; i < 14; i++) await writeFile(join(good, `${i}.png`), await frame(i));
  for (let i = 0; i < 4; i++) await writeFile(join(testGood, `${i}.png`), await frame(100 + i));
  for (const v of [90, 160]) await writeFile(join(testOdd, `${v}.png`), await uniform(v));
  const out = join(dir, "bundle");
  const said: string[] = [];
  await fitModel({ data, out, config: parseModelConfig({ diffusion: { preset: "none" }, scoring: { mode: "knn" } }), cacheDir: join(dir, "cache"), tune: false, log: (m) => said.push(m), progressSink: () => {} });
  const fitted = await readBundle(out);
  const reach = fitted.manifest.memory.classMeans?.classes.plates?.reach;
  assert.ok(reach !== undefined && reach > 0, `fit recorded no reach: ${reach}`);
  const light = fitted.manifest.memory.classMeans?.classes.plates?.light;
  assert.ok(light && light.lo.every((lo, ch) => lo > 0 && lo <= light.hi[ch]! && light.hi[ch]! < 255), `fit recorded no light range: ${JSON.stringify(light)}`);
  assert.ok(said.includes(`fit: each class's reach (how far its normals' look lies from its mean; a served frame over model.unlikeMargin reaches from its class's is NG as like no class): plates ${reach.toFixed(3)}`), said.join("\n"));

  const gated = await loadDetector(out, { intraOpThreads: 1 });
  const off = await loadDetector(out, { intraOpThreads: 1, unlikeMargin: 0 });
  try {
    assert.equal(gated.info.unlikeMargin, DEFAULT_UNLIKE_MARGIN);
    assert.equal(off.info.unlikeMargin, undefined, "the gate off is no margin in the model's info");
    assert.deepEqual(gated.info.lookGatedClasses, ["plates"]);
    assert.equal(off.info.lookGatedClasses, undefined);
    for (let i = 0; i < 4; i++) {
      const d = await gated.detect({ kind: "encoded", bytes: await frame(100 + i) });
      assert.ok(d.lookRatio !== undefined && d.lookRatio < DEFAULT_UNLIKE_MARGIN, `a normal frame's look ratio ${d.lookRatio}`);
      assert.equal(d.unlike, false);
    }
    for (let i = 0; i < 2; i++) {
      const d = await gated.detect({ kind: "encoded", bytes: await brighter(await frame(100 + i), 60) });
      assert.ok(d.lightRatio !== undefined && d.lightRatio > DEFAULT_UNLIKE_MARGIN, `a frame 60 levels brighter: light ratio ${d.lightRatio}`);
      assert.ok(d.lookRatio! >= d.lightRatio!, "the look ratio is at least the light ratio");
      assert.equal(d.unlike, true);
    }
    for (const v of [90, 160]) {
      const bytes = await uniform(v);
      const d = await gated.detect({ kind: "encoded", bytes });
      assert.ok(d.lookRatio! > DEFAULT_UNLIKE_MARGIN, `a uniform frame's look ratio ${d.lookRatio}`);
      assert.equal(d.unlike, true);
      const o = await off.detect({ kind: "encoded", bytes });
      assert.equal(o.unlike, false, "margin 0: never unlike");
      assert.equal(o.lookRatio, d.lookRatio, "margin 0: the ratio still reported");
      assert.equal(o.score, d.score, "the gate leaves the score alone");
    }
    // Eval: the uniform frames are NG whatever their score and counted as unlike; with the gate off, by their score.
    const judged: Record<string, string> = {};
    const report = await evaluate(gated, { data, onImage: (s) => (judged[s.path] = `${s.verdict}${s.unlike ? " unlike" : ""}`), log: () => {}, progressSink: () => {} });
    assert.equal(report.verdicts.classes.plates!.unlike, 2);
    for (const v of [90, 160]) assert.equal(judged[join(testOdd, `${v}.png`)], "NG unlike");
    const plain = await evaluate(off, { data, log: () => {}, progressSink: () => {} });
    assert.equal(plain.verdicts.classes.plates!.unlike, 0);
  } finally {
    await gated.close();
    await off.close();
  }
  await assert.rejects(loadDetector(out, { unlikeMargin: -1 }), /unlike margin -1/);

  // A bundle fitted before reaches: no gate, no ratio.
  const { reach: _dropped, light: _unlit, ...withoutReach } = fitted.manifest.memory.classMeans!.classes.plates!;
  const before = join(dir, "before");
  const files = Object.fromEntries(Object.keys(fitted.manifest.files).map((name) => [name, fitted.file(name)]));
  const { files: _hashes, ...rest } = fitted.manifest;
  await writeBundle(before, { ...rest, memory: { ...rest.memory, classMeans: { ...rest.memory.classMeans!, classes: { plates: withoutReach } } } }, files, true);
  const old = await loadDetector(before, { intraOpThreads: 1 });
  try {
    const d = await old.detect({ kind: "encoded", bytes: await uniform(160) });
    assert.equal(d.lookRatio, undefined);
    assert.notEqual(d.unlike, true);
    assert.equal(old.info.unlikeMargin, undefined);
  } finally {
    await old.close();
  }

  // A bundle fitted before light ranges: the look gate alone, no light ratio.
  const unlitDir = join(dir, "unlit");
  const { light: _none, ...unlit } = fitted.manifest.memory.classMeans!.classes.plates!;
  await writeBundle(unlitDir, { ...rest, memory: { ...rest.memory, classMeans: { ...rest.memory.classMeans!, classes: { plates: unlit } } } }, files, true);
  const dark = await loadDetector(unlitDir, { intraOpThreads: 1 });
  try {
    const d = await dark.detect({ kind: "encoded", bytes: await brighter(await frame(100), 60) });
    assert.equal(d.lightRatio, undefined);
    assert.ok(d.lookRatio !== undefined);
  } finally {
    await dark.close();
  }
});
