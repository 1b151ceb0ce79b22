import { test } from "node:test";
import assert from "node:assert/strict";
import { combinedMask, DEFAULT_MASK_OPTIONS } from "../../../src/image/pseudo/combine.js";
import { maskArea, maskBox } from "../../../src/image/pseudo/mask.js";
import { MASK_FAMILIES } from "../../../src/image/pseudo/shapes.js";
import { seededRng } from "../../../src/image/synth/rng.js";

test("combined masks span small to large areas, use 1-3 rotated parts and every family", () => {
  const fractions: number[] = [];
  const families = new Set<string>();
  const counts = new Set<number>();
  for (let seed = 0; seed < 120; seed++) {
    const c = combinedMask(seededRng(seed), 160, 120);
    assert.ok(c.parts.length >= 1 && c.parts.length <= 3);
    assert.equal(c.areaFraction, maskArea(c.mask) / (160 * 120), "the recorded fraction is the mask's");
    assert.ok(c.areaFraction >= 0.8 * DEFAULT_MASK_OPTIONS.minArea && c.areaFraction <= 1.05 * DEFAULT_MASK_OPTIONS.maxArea, `seed ${seed}: ${c.areaFraction}`);
    for (const p of c.parts) {
      families.add(p.family);
      assert.ok(p.angle >= 0 && p.angle <= 360);
    }
    counts.add(c.parts.length);
    fractions.push(c.areaFraction);
  }
  fractions.sort((a, b) => a - b);
  assert.ok(fractions[0]! < 0.003, `smallest ${fractions[0]}`);
  assert.ok(fractions.at(-1)! > 0.04, `largest ${fractions.at(-1)}`);
  assert.deepEqual([...counts].sort(), [1, 2, 3]);
  assert.deepEqual([...families].sort(), [...MASK_FAMILIES].sort());
});

test("a restricted family list and area range are respected", () => {
  for (let seed = 0; seed < 20; seed++) {
    const c = combinedMask(seededRng(seed), 100, 100, { minArea: 0.02, maxArea: 0.03, families: ["rectangle"] });
    assert.ok(c.parts.every((p) => p.family === "rectangle"));
    assert.ok(c.areaFraction >= 0.016 && c.areaFraction <= 0.0315, `seed ${seed}: ${c.areaFraction}`);
    assert.ok(maskBox(c.mask), "not empty");
  }
});
