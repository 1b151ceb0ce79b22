import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { scanDataset } from "../../../../src/dataset/mvtec-layout.js";
import { REALISTIC_CLASSES, synthesizeRealistic } from "../../../../src/image/synth/realistic/index.js";
import { readPng, tempDir } from "../helpers.js";

test("realistic suite: MVTec layout that scanDataset reads, with a non-empty in-frame mask for every defective image", async (t) => {
  const out = await tempDir(t);
  const manifest = await synthesizeRealistic({ out, seed: 3, scale: 0.01 });
  assert.equal(manifest.complete, true);
  assert.deepEqual(manifest.textures.map((s) => s.debianPackage), ["krita-data", "krita-data", "krita-data", "krita-data", "krita-data"]);
  const onDisk = JSON.parse(await readFile(path.join(out, "manifest.json"), "utf8")) as { suite: string; textures: Array<{ path: string; license: string; sha256: string }> };
  assert.equal(onDisk.suite, "realistic");
  for (const s of onDisk.textures) {
    assert.ok(s.path.startsWith("/usr/share/krita/patterns/") && s.license.length > 0);
    assert.match(s.sha256, /^[0-9a-f]{64}$/);
  }

  const classes = await scanDataset(out);
  assert.deepEqual(classes.map((c) => c.name).sort(), REALISTIC_CLASSES.map((c) => c.name).sort());
  for (const cls of classes) {
    const info = manifest.classes.find((c) => c.name === cls.name)!;
    assert.equal(cls.train.length, info.train);
    assert.ok(cls.hasMasks);
    assert.deepEqual(cls.missingMasks, []);
    const defects = new Set(cls.test.filter((i) => i.anomalous).map((i) => i.defect));
    assert.deepEqual([...defects].sort(), [...info.defects].sort());
    for (const item of cls.test.filter((i) => i.anomalous)) {
      const img = await readPng(item.path);
      const mask = await readPng(item.maskPath!);
      assert.equal(mask.channels, 1);
      // In the frame: the mask has the image's own size, so no marked pixel lies outside it.
      assert.equal(mask.width, img.width, item.path);
      assert.equal(mask.height, img.height, item.path);
      let marked = 0;
      for (const v of mask.data) {
        assert.ok(v === 0 || v === 255, `${item.maskPath} is not binary`);
        if (v === 255) marked++;
      }
      assert.ok(marked > 0, `${item.maskPath} is empty`);
      assert.ok(marked / (img.width * img.height) <= info.maxDefectArea, `${item.maskPath} is larger than the class allows`);
    }
  }
});
