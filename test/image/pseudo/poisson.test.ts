import { test } from "node:test";
import assert from "node:assert/strict";
import type { RgbImage } from "../../../src/image/decode.js";
import { poissonBlend } from "../../../src/image/pseudo/poisson.js";
import { rasterize, type BinaryMask } from "../../../src/image/pseudo/mask.js";
import { ellipseShape } from "../../../src/image/pseudo/shapes.js";
import { seededRng } from "../../../src/image/synth/rng.js";
import { flatImage, noiseImage } from "./helpers.js";

function grayRow(values: readonly number[]): RgbImage {
  const rgb = new Uint8Array(values.length * 3);
  values.forEach((v, i) => rgb.fill(v, 3 * i, 3 * i + 3));
  return { width: values.length, height: 1, rgb, gray: true };
}

function rowMask(bits: readonly number[]): BinaryMask {
  return { width: bits.length, height: 1, data: Uint8Array.from(bits) };
}

test("a constant fragment becomes the straight line between its border values (hand-computed)", () => {
  // Unknowns x = 1..3 with t0 = 10 and t4 = 50: 2f1 − f2 = 10, 2f2 − f1 − f3 = 0, 2f3 − f2 = 50.
  const out = poissonBlend(grayRow([10, 0, 0, 0, 50]), grayRow([0, 200, 200, 200, 0]), rowMask([0, 1, 1, 1, 0]));
  assert.deepEqual([...out.image.rgb].filter((_, i) => i % 3 === 0), [10, 20, 30, 40, 50]);
  assert.ok(out.residual <= 1e-5);
});

test("the fragment's curvature survives and its offset does not (hand-computed)", () => {
  // Guide bump 0, 30, 0 on a target of 100: 2f1 − f2 = −30 + 100, 2f2 − f1 − f3 = 60, so f = 100, 130, 100.
  const out = poissonBlend(grayRow([100, 100, 100, 100, 100]), grayRow([9, 0, 30, 0, 9]), rowMask([0, 1, 1, 1, 0]));
  assert.deepEqual([...out.image.rgb].filter((_, i) => i % 3 === 0), [100, 100, 130, 100, 100]);
});

test("a flat fragment on a flat target leaves no trace: the seam and the offset are gone", () => {
  const target = flatImage(40, 30, [100, 60, 20]);
  const mask = rasterize(ellipseShape(seededRng(1), { area: 200, minSide: 30 }), 40, 30, { cx: 20, cy: 15, angle: 0.4 });
  const out = poissonBlend(target, flatImage(40, 30, [200, 10, 250]), mask);
  assert.deepEqual(out.image.rgb, target.rgb);
});

test("pixels outside the mask keep the target's values, and a gray target stays gray", () => {
  const target = noiseImage(32, 24, 5, true);
  const guide = flatImage(32, 24, [250, 250, 250]);
  const mask = rasterize(ellipseShape(seededRng(2), { area: 120, minSide: 24 }), 32, 24, { cx: 16, cy: 12, angle: 0 });
  const out = poissonBlend(target, guide, mask).image;
  for (let i = 0; i < 32 * 24; i++) {
    if (mask.data[i] === 0) for (let c = 0; c < 3; c++) assert.equal(out.rgb[3 * i + c], target.rgb[3 * i + c]);
    assert.ok(out.rgb[3 * i] === out.rgb[3 * i + 1] && out.rgb[3 * i] === out.rgb[3 * i + 2]);
  }
  assert.equal(out.gray, true);
});

/** Slow reference: Gauss–Seidel sweeps of the same discrete equation until nothing moves. */
function gaussSeidel(target: RgbImage, guide: RgbImage, mask: BinaryMask, channel: number): Float64Array {
  const { width, height } = target;
  const f = new Float64Array(width * height);
  for (let i = 0; i < f.length; i++) f[i] = mask.data[i] ? guide.rgb[3 * i + channel]! : target.rgb[3 * i + channel]!;
  for (let sweep = 0; sweep < 20000; sweep++) {
    let moved = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        if (!mask.data[p]) continue;
        let sum = 0;
        let n = 0;
        for (const [qx, qy] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]] as const) {
          if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
          const q = qy * width + qx;
          n++;
          sum += f[q]!;
          if (mask.data[q]) sum += guide.rgb[3 * p + channel]! - guide.rgb[3 * q + channel]!;
        }
        const next = sum / n;
        moved = Math.max(moved, Math.abs(next - f[p]!));
        f[p] = next;
      }
    }
    if (moved < 1e-9) break;
  }
  return f;
}

test("conjugate gradients agree with a slow Gauss–Seidel solve, also where the mask meets the image edge", () => {
  const target = noiseImage(36, 28, 7);
  const guide = noiseImage(36, 28, 8);
  const rng = seededRng(3);
  // One part in the middle, one cut by the left and top edges.
  const a = rasterize(ellipseShape(rng, { area: 150, minSide: 28 }), 36, 28, { cx: 22, cy: 16, angle: 1 });
  const b = rasterize(ellipseShape(rng, { area: 60, minSide: 28 }), 36, 28, { cx: 1, cy: 1, angle: 0 });
  const data = a.data.map((v, i) => v | b.data[i]!);
  const mask = { width: 36, height: 28, data };
  const out = poissonBlend(target, guide, mask, { tolerance: 1e-10 });
  for (let c = 0; c < 3; c++) {
    const ref = gaussSeidel(target, guide, mask, c);
    for (let i = 0; i < data.length; i++) {
      if (!data[i]) continue;
      const want = Math.min(255, Math.max(0, Math.round(ref[i]!)));
      // Rounding of values that sit at .5 may differ by one level between the two solvers.
      assert.ok(Math.abs(out.image.rgb[3 * i + c]! - want) <= 1, `pixel ${i} channel ${c}: ${out.image.rgb[3 * i + c]} vs ${ref[i]}`);
    }
  }
});

test("a mask with no border to blend into is refused", () => {
  const target = flatImage(4, 3, [1, 2, 3]);
  assert.throws(() => poissonBlend(target, target, { width: 4, height: 3, data: new Uint8Array(12).fill(1) }), /outside the mask/);
  assert.throws(() => poissonBlend(target, flatImage(5, 3, [0, 0, 0]), { width: 4, height: 3, data: new Uint8Array(12) }), /equal sizes/);
});
