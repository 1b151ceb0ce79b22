import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { MASK_THRESHOLD, PRODUCT_CLASSES, renderSample, synthesizeDataset } from "../../../src/image/synth/index.js";
import { readPng, tempDir } from "./helpers.js";

test("a mask marks exactly the pixels the defect changed by at least the threshold", async (t) => {
  const out = await tempDir(t);
  const seed = 21;
  await synthesizeDataset({ out, seed, trainPerClass: 0, testGoodPerClass: 0, testPerDefect: 2 });
  for (const cls of PRODUCT_CLASSES) {
    for (const d of cls.defects) {
      for (let index = 0; index < 2; index++) {
        const what = `${cls.name}/${d.name}/${index}`;
        // The clean twin comes from the same seed: same product, same camera, no defect.
        const { clean, image } = renderSample(seed, cls, { split: "test", label: d.name, index });
        assert.ok(clean && image, what);
        const stem = String(index).padStart(3, "0");
        const stored = await readPng(path.join(out, cls.name, "test", d.name, `${stem}.png`));
        const mask = await readPng(path.join(out, cls.name, "ground_truth", d.name, `${stem}_mask.png`));
        assert.equal(stored.channels, cls.channels, what);
        assert.deepEqual(new Uint8Array(stored.data), image.data, `${what}: PNG holds the rendered pixels exactly`);
        let marked = 0;
        let changedOutside = 0;
        for (let i = 0; i < cls.width * cls.height; i++) {
          let diff = 0;
          for (let c = 0; c < cls.channels; c++) {
            const o = i * cls.channels + c;
            diff = Math.max(diff, Math.abs((stored.data[o] as number) - (clean.data[o] as number)));
          }
          if (mask.data[i] === 255) {
            marked++;
            assert.ok(diff >= MASK_THRESHOLD, `${what}: marked pixel ${i} changed by only ${diff}`);
          } else {
            assert.ok(diff < MASK_THRESHOLD, `${what}: unmarked pixel ${i} changed by ${diff}`);
            if (diff > 0) changedOutside++;
          }
        }
        assert.ok(marked > 0, `${what}: mask is not empty`);
        // Sub-threshold fringes exist (soft edges) but must stay a thin border, not a hidden second defect.
        assert.ok(changedOutside < marked, `${what}: ${changedOutside} faintly changed pixels vs ${marked} marked`);
      }
    }
  }
});

test("defect sizes spread from small to large", () => {
  for (const cls of PRODUCT_CLASSES) {
    const blobs = cls.defects.filter((d) => d.kind !== "scratch");
    const fractions: number[] = [];
    for (const d of blobs) {
      for (let index = 0; index < 8; index++) {
        const { mask } = renderSample(4, cls, { split: "test", label: d.name, index });
        assert.ok(mask);
        let marked = 0;
        for (const v of mask.data) if (v !== 0) marked++;
        fractions.push(marked / (cls.width * cls.height));
      }
    }
    const min = Math.min(...fractions);
    const max = Math.max(...fractions);
    assert.ok(min < 0.025, `${cls.name}: smallest blob defect ${min}`);
    assert.ok(max > 0.04 && max <= 0.12, `${cls.name}: largest blob defect ${max}`);
  }
});
