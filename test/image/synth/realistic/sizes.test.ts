import { test } from "node:test";
import assert from "node:assert/strict";
import { loadTexture, REALISTIC_CLASSES, renderRealisticSample } from "../../../../src/image/synth/realistic/index.js";

const byName = (n: string) => REALISTIC_CLASSES.find((c) => c.name === n)!;

test("realistic suite: cast tiles come in many non-square sizes within 100–630 × 220–400; the sheet is 1024 px", async () => {
  const tiles = byName("cast_tile");
  const tex = { grain: await loadTexture("grain") };
  const sizes = new Set<string>();
  let nonSquare = 0;
  for (let i = 0; i < 12; i++) {
    const { image } = renderRealisticSample(1, tiles, { split: "train", label: "good", index: i }, tex);
    assert.ok(image.width >= 100 && image.width <= 630, `width ${image.width}`);
    assert.ok(image.height >= 220 && image.height <= 400, `height ${image.height}`);
    assert.equal(image.channels, 1);
    sizes.add(`${image.width}x${image.height}`);
    if (image.width !== image.height) nonSquare++;
  }
  assert.ok(sizes.size >= 10, `only ${sizes.size} distinct sizes`);
  assert.ok(nonSquare >= 10);

  const sheet = renderRealisticSample(1, byName("sheet_hires"), { split: "train", label: "good", index: 0 }, { paper: await loadTexture("paper") });
  assert.equal(sheet.image.width, 1024);
  assert.equal(sheet.image.height, 1024);
  // Gray and colour classes sit side by side.
  assert.deepEqual(new Set(REALISTIC_CLASSES.map((c) => c.channels)), new Set([1, 3]));
});
