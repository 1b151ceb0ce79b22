import { test } from "node:test";
import assert from "node:assert/strict";
import { applyWarp, displacement, edgeCandidates, edgeFieldOf, EDGE_SHARE, growInDisk, MASK_GROW, sobel, synthesizeWarpAnomaly, WARP_AREA, type WarpInfo } from "../../../src/image/pseudo/warp.js";
import { emptyMask, maskArea } from "../../../src/image/pseudo/mask.js";
import { MASK_THRESHOLD } from "../../../src/image/synth/sample.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import type { RgbImage } from "../../../src/image/decode.js";
import { flatImage, noiseImage } from "./helpers.js";

/** A gray frame, dark left of column `edge` and bright from it on: one straight vertical edge. */
function stepImage(width: number, height: number, edge: number, dark = 40, bright = 200): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgb.fill(x < edge ? dark : bright, 3 * (y * width + x), 3 * (y * width + x) + 3);
  return { width, height, rgb, gray: true };
}

test("the Sobel gradient of a step edge, by hand: (right column − left column)/8 with weights 1, 2, 1, zero away from the edge", () => {
  const { gx, gy } = sobel(stepImage(8, 5, 4, 0, 8));
  for (let y = 0; y < 5; y++) {
    // Columns 3 and 4 straddle the step: (8 + 2·8 + 8 − 0)/8 = 4; elsewhere both neighbour columns are equal.
    assert.deepEqual(Array.from(gx.subarray(y * 8, y * 8 + 8)), [0, 0, 0, 4, 4, 0, 0, 0], `row ${y}`);
  }
  assert.ok(gy.every((v) => v === 0));
});

test("a warp is centred on the strongest edges: the top share of gradient magnitude, or anywhere on a flat frame", () => {
  const { gx, gy } = sobel(stepImage(50, 40, 20));
  const picks = edgeCandidates(gx, gy);
  // 2 of 50 columns (4 %) carry the edge, exactly EDGE_SHARE.
  assert.equal(EDGE_SHARE, 0.04);
  assert.deepEqual([...new Set(Array.from(picks, (i) => i % 50))].sort((a, b) => a - b), [19, 20]);
  assert.equal(picks.length, 80);
  const flat = sobel(flatImage(10, 6, [90, 90, 90]));
  assert.equal(edgeCandidates(flat.gx, flat.gy).length, 60);
});

test("a frame's edge candidates and their unit normals are computed once per image object, and equal the direct computation", () => {
  const target = noiseImage(40, 30, 5);
  const field = edgeFieldOf(target);
  const { gx, gy } = sobel(target);
  assert.deepEqual(field.centres, edgeCandidates(gx, gy));
  field.centres.forEach((at, j) => {
    const g = Math.hypot(gx[at]!, gy[at]!);
    assert.ok(g > 0, `candidate ${at} is on an edge`);
    // Exactly, in double precision: the warps drawn from it are those drawn from the gradient itself.
    assert.deepEqual([field.normals[2 * j], field.normals[2 * j + 1]], [gx[at]! / g, gy[at]! / g], `candidate ${at}'s normal`);
  });
  // A flat frame: every pixel a candidate, each with the fallback normal.
  const flat = edgeFieldOf(flatImage(6, 4, [90, 90, 90]));
  assert.deepEqual([flat.centres.length, Array.from(flat.normals.subarray(0, 4))], [24, [1, 0, 1, 0]]);
  assert.equal(edgeFieldOf(target), field, "kept for the same object");
  const copy: RgbImage = { ...target, rgb: Uint8Array.from(target.rgb) };
  assert.notEqual(edgeFieldOf(copy), field, "another object gets its own");
  // So a warp drawn through the kept field is the warp a fresh frame of the same pixels gives.
  for (let seed = 0; seed < 4; seed++) assert.deepEqual(synthesizeWarpAnomaly(seededRng(seed), target), synthesizeWarpAnomaly(seededRng(seed), { ...target, rgb: Uint8Array.from(target.rgb) }), `seed ${seed}`);
});

test("the displacement, by hand: a dent pushes along the normal with a (1 − d²/r²)² falloff, a twist turns the disk's middle, nothing moves outside it", () => {
  const dent = { kind: "dent", radius: 4, amount: 2 } as const;
  assert.deepEqual(displacement(dent, [0, 1], 0, 0), [0, 2]);
  // d = r/2: (1 − 1/4)² = 0.5625.
  assert.deepEqual(displacement(dent, [0.6, 0.8], 2, 0), [2 * 0.6 * 0.5625, 2 * 0.8 * 0.5625]);
  assert.equal(displacement(dent, [1, 0], 4, 0), undefined);
  assert.equal(displacement(dent, [1, 0], 3, 3), undefined);
  const twist = { kind: "twist", radius: 4, amount: 90 } as const;
  // A quarter turn of (2, 0) is (0, 2): the offset moves by (−2, 2), scaled by 0.5625.
  const [dx, dy] = displacement(twist, [1, 0], 2, 0)!;
  assert.ok(Math.abs(dx - -2 * 0.5625) < 1e-12 && Math.abs(dy - 2 * 0.5625) < 1e-12, `${dx}, ${dy}`);
  assert.deepEqual(displacement(twist, [1, 0], 0, 0)!.map(Math.abs), [0, 0], "the centre stays");
});

test("applyWarp moves a step edge by the dent's push at the centre, changes nothing outside the disk, and marks the pixels that changed", () => {
  const target = stepImage(32, 32, 16);
  const info: WarpInfo = { kind: "dent", x: 16, y: 16, radius: 8, amount: 3 };
  const { image, changed } = applyWarp(target, info, [1, 0]);
  // Row 16: p − D(p) for x = 17 is 17 − 3·(1 − 1/64)² ≈ 14.09: dark; x = 19 samples 19 − 3·(1 − 9/64)² ≈ 16.78: bright.
  const at = (x: number, y: number) => image.rgb[3 * (y * 32 + x)]!;
  assert.equal(at(17, 16), 40);
  assert.equal(at(18, 16), Math.round(40 + 160 * (18 - 3 * (1 - 4 / 64) ** 2 - 15)));
  assert.equal(at(19, 16), 200);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const inside = (x - 16) ** 2 + (y - 16) ** 2 < 64;
      const i = y * 32 + x;
      const diff = Math.abs(image.rgb[3 * i]! - target.rgb[3 * i]!);
      if (!inside) assert.equal(diff, 0, `(${x}, ${y}) outside the disk changed`);
      assert.equal(changed.data[i], diff >= MASK_THRESHOLD ? 1 : 0, `(${x}, ${y})`);
    }
  }
  assert.ok(maskArea(changed) > 0);
  assert.equal(image.gray, true);
});

test("growInDisk grows a mask by a square neighbourhood and keeps it inside the disk", () => {
  const m = emptyMask(9, 9);
  m.data[4 * 9 + 4] = 1;
  const grown = growInDisk(m, 1, { x: 4, y: 4, radius: 10 });
  assert.equal(maskArea(grown), 9);
  const cut = growInDisk(m, 2, { x: 4, y: 4, radius: 1.5 });
  // Offsets with dx² + dy² < 2.25: the centre, its 4 neighbours and the 4 diagonals (2 < 2.25).
  assert.equal(maskArea(cut), 9);
  assert.equal(cut.data[4 * 9 + 6], 0);
});

test("a warp anomaly sits on an edge, records how it was made, and its mask covers every pixel it visibly changed", () => {
  for (let seed = 0; seed < 12; seed++) {
    const target = stepImage(64, 48, 30);
    const a = synthesizeWarpAnomaly(seededRng(seed), target)!;
    const w = a.info.warp!;
    assert.ok(w.x === 29 || w.x === 30, `seed ${seed}: centre column ${w.x}`);
    const area = Math.PI * w.radius * w.radius / (64 * 48);
    assert.ok(area >= WARP_AREA[0] * 0.99 || w.radius === 3, `seed ${seed}: disk ${area}`);
    assert.ok(area <= WARP_AREA[1] * 1.01, `seed ${seed}: disk ${area}`);
    assert.deepEqual(a.info.paste, { dx: 0, dy: 0, transform: 0, gain: 1, bias: 0 });
    assert.equal(a.info.areaFraction, maskArea(a.mask) / (64 * 48));
    assert.ok(a.info.visibleFraction > 0 && a.info.visibleFraction <= 1);
    for (let i = 0; i < 64 * 48; i++) {
      const diff = Math.abs(a.image.rgb[3 * i]! - target.rgb[3 * i]!);
      if (a.mask.data[i] === 0) assert.ok(diff < MASK_THRESHOLD, `seed ${seed}: pixel ${i} changed by ${diff} outside the mask`);
      const dx = (i % 64) - w.x;
      const dy = Math.floor(i / 64) - w.y;
      if (a.mask.data[i] === 1) assert.ok(dx * dx + dy * dy < w.radius * w.radius, `seed ${seed}: mask pixel ${i} outside the disk`);
    }
    assert.deepEqual(synthesizeWarpAnomaly(seededRng(seed), target), a, "the same stream, the same anomaly");
  }
  assert.equal(MASK_GROW, 2);
});

test("a flat frame has nothing a warp can change: no anomaly; a texture is warped anywhere", () => {
  assert.equal(synthesizeWarpAnomaly(seededRng(1), flatImage(40, 30, [128, 128, 128])), undefined);
  const a = synthesizeWarpAnomaly(seededRng(1), noiseImage(64, 48, 3));
  assert.ok(a && maskArea(a.mask) > 0);
});
