import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import sharp from "sharp";
import { synthesizeSwap } from "../../../src/image/pseudo/swap.js";
import { swapSamples } from "../../../src/image/pseudo/samples.js";
import { maskArea, maskBox } from "../../../src/image/pseudo/mask.js";
import { alignedSquare, copySquare, discMask, findParts, MIN_VISIBLE_LOGICAL } from "../../../src/image/pseudo/logical.js";
import { visibleFraction } from "../../../src/image/pseudo/paste.js";
import { MASK_THRESHOLD } from "../../../src/image/synth/sample.js";
import type { RgbImage } from "../../../src/image/decode.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { tempDir } from "../synth/helpers.js";
import { collect, noiseImage, partsPlate } from "./helpers.js";

const PARTS = [[10, 10], [60, 12], [12, 62], [62, 60]] as const;

/** The same plate with its parts in another "material": the bright part pixels (230) at `value`. */
function recoloured(image: RgbImage, value: number): RgbImage {
  return { ...image, rgb: image.rgb.map((v) => (v === 230 ? value : v)) };
}

test("a swap replaces one whole part by the other frame's part at that place: the mask is a disc over a part, the change is inside it", () => {
  const target = partsPlate(96, 96, PARTS, 20, 3);
  const source = recoloured(partsPlate(96, 96, PARTS, 20, 4), 140);
  const made = synthesizeSwap(seededRng(7), target, source)!;
  assert.ok(made, "a visible swap");
  const box = maskBox(made.mask)!;
  // The disc sits on one of the parts (its square holds the part's centre).
  const hit = PARTS.filter(([px, py]) => box.x0 <= px + 10 && px + 10 <= box.x1 && box.y0 <= py + 10 && py + 10 <= box.y1);
  assert.equal(hit.length, 1, `mask box ${JSON.stringify(box)}`);
  assert.ok(made.visibleFraction >= 0.25);
  assert.equal(made.info.side, box.x1 - box.x0 + 1);
  // Darker inside (the source's part), untouched outside.
  let inside = 0, before = 0, changedOutside = 0;
  for (let i = 0; i < made.mask.data.length; i++) {
    if (made.mask.data[i]) (inside += made.image.rgb[3 * i]!), (before += target.rgb[3 * i]!);
    else if (made.image.rgb[3 * i] !== target.rgb[3 * i]) changedOutside++;
  }
  assert.ok(inside < before - 20 * maskArea(made.mask), `mean inside ${inside / maskArea(made.mask)} against ${before / maskArea(made.mask)}`);
  assert.equal(changedOutside, 0);
});

test("no swap where nothing would show: the same frame as its own source, frames of two sizes, a texture without parts", () => {
  const target = partsPlate(96, 96, PARTS, 20, 3);
  assert.equal(synthesizeSwap(seededRng(1), target, target), undefined);
  assert.equal(synthesizeSwap(seededRng(1), target, partsPlate(96, 80, PARTS.slice(0, 2), 20, 3)), undefined);
  const cloth = noiseImage(96, 96, 2);
  assert.equal(synthesizeSwap(seededRng(1), cloth, noiseImage(96, 96, 3)), undefined);
});

async function writeImage(file: string, image: RgbImage): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(image.rgb), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toFile(file);
  return file;
}

test("swapSamples: per class up to perClass swaps named s000…, drawn from its own stream; a class of one image, or without parts, gets none", async (t) => {
  const dir = await tempDir(t);
  const kit = await Promise.all([0, 1, 2, 3].map((i) => writeImage(path.join(dir, "kit", `${i}.png`), i % 2 ? recoloured(partsPlate(96, 96, PARTS, 20, 10 + i), 140) : partsPlate(96, 96, PARTS, 20, 10 + i))));
  const single = [await writeImage(path.join(dir, "single", "0.png"), partsPlate(96, 96, PARTS, 20, 1))];
  const cloth = await Promise.all([0, 1, 2].map((i) => writeImage(path.join(dir, "cloth", `${i}.png`), noiseImage(96, 96, 20 + i))));
  const classes = [{ name: "kit", images: kit }, { name: "single", images: single }, { name: "cloth", images: cloth }];
  const samples = await collect(swapSamples(classes, { seed: 3, perClass: 6 }));
  assert.ok(samples.length >= 2 && samples.length <= 6, `${samples.length} swaps`);
  for (const s of samples) {
    assert.equal(s.cls, "kit");
    assert.equal(s.kind, "pseudo");
    assert.match(s.name, /^s00[0-5]$/);
    assert.notEqual(s.source, s.target);
    assert.ok(s.mask && s.mask.some((v) => v === 1));
    assert.ok(s.swap);
  }
  // Sample i is the same whatever perClass is.
  const fewer = await collect(swapSamples(classes, { seed: 3, perClass: 3 }));
  assert.deepEqual(fewer.map((s) => [s.name, s.target, s.source]), samples.filter((s) => Number(s.name.slice(1)) < 3).map((s) => [s.name, s.target, s.source]));
  assert.deepEqual(Array.from(fewer[0]!.image.rgb), Array.from(samples[0]!.image.rgb));
});

test("no swap of a like part: the same parts a few pixels off change the disc visibly but not the frame's consistency", () => {
  const target = partsPlate(96, 96, PARTS, 20, 3);
  const shifted = partsPlate(96, 96, PARTS.map(([x, y]) => [x + 3, y + 2] as const), 20, 5);
  // Visible enough for the old rule: some part's disc changes in at least a quarter of its pixels.
  const found = findParts(target)!;
  const visible = found.parts.map((p) => visibleFraction(target, copySquare(target, alignedSquare(shifted, target, p, p, p.side), p, p.side, shifted), discMask(96, 96, p.x, p.y, p.side), MASK_THRESHOLD));
  assert.ok(Math.max(...visible) >= MIN_VISIBLE_LOGICAL, `visible fractions ${visible}`);
  assert.equal(synthesizeSwap(seededRng(7), target, shifted), undefined);
  // The same shifted frame with its parts in another material: a swap.
  assert.ok(synthesizeSwap(seededRng(7), target, recoloured(shifted, 140)));
});
