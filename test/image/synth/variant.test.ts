import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PRODUCT_CLASSES, diffMask, renderSample, synthesizeDataset } from "../../../src/image/synth/index.js";
import { tempDir } from "./helpers.js";

function meanOf(data: Uint8Array, channels: number, c: number): number {
  let s = 0;
  for (let i = c; i < data.length; i += channels) s += data[i]!;
  return s / (data.length / channels);
}

test("the shifted variant: same classes, colour-cast good parts, defects still exactly masked", () => {
  for (const cls of PRODUCT_CLASSES) {
    const normal = renderSample(5, cls, { split: "train", label: "good", index: 0 }).image;
    const shifted = renderSample(5, cls, { split: "train", label: "good", index: 0 }, "shifted").image;
    assert.equal(shifted.channels, cls.channels);
    assert.deepEqual([shifted.width, shifted.height], [cls.width, cls.height]);
    assert.ok(!Buffer.from(shifted.data).equals(Buffer.from(normal.data)), cls.name);
    if (cls.channels === 3) {
      // The colour cast and the new batch move the red/blue balance visibly (> 3 %).
      const ratio = (img: typeof normal) => meanOf(img.data, 3, 0) / meanOf(img.data, 3, 2);
      assert.ok(Math.abs(ratio(shifted) / ratio(normal) - 1) > 0.03, `${cls.name}: ${ratio(shifted)} vs ${ratio(normal)}`);
    }
    const d = cls.defects[0]!;
    const s = renderSample(5, cls, { split: "test", label: d.name, index: 0 }, "shifted");
    assert.ok(s.mask && s.clean);
    assert.deepEqual(Buffer.from(diffMask(s.clean, s.image).data), Buffer.from(s.mask.data), `${cls.name}/${d.name}`);
  }
});

test("synthesizeDataset --variant shifted records the variant; the normal manifest has none", async (t) => {
  const a = await tempDir(t);
  const b = await tempDir(t);
  const counts = { trainPerClass: 1, testGoodPerClass: 1, testPerDefect: 0, classes: ["hex_nut"] };
  await synthesizeDataset({ out: a, seed: 1, ...counts, variant: "shifted" });
  await synthesizeDataset({ out: b, seed: 1, ...counts });
  const ma = JSON.parse(await readFile(path.join(a, "manifest.json"), "utf8")) as { variant?: string };
  const mb = JSON.parse(await readFile(path.join(b, "manifest.json"), "utf8")) as { variant?: string };
  assert.equal(ma.variant, "shifted");
  assert.equal(mb.variant, undefined);
  const fa = await readFile(path.join(a, "hex_nut/train/good/000.png"));
  const fb = await readFile(path.join(b, "hex_nut/train/good/000.png"));
  assert.ok(!fa.equals(fb));
  await assert.rejects(synthesizeDataset({ out: b, seed: 1, ...counts, variant: "sideways" as "shifted" }), /unknown synth variant/);
});
