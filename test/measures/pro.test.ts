import { test } from "node:test";
import assert from "node:assert/strict";
import { ProAccumulator, areaUpTo, PRO_FPR_LIMIT } from "../../src/measures/pro.js";
import { LafiteError } from "../../src/util/errors.js";
import { createRng } from "../../src/util/random.js";
import { referenceAupro, referenceProCurve, type RefMap } from "./support/pro-reference.js";

const near = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const curve = (x: number[], y: number[]) => ({ x: Float64Array.from(x), y: Float64Array.from(y) });

test("areaUpTo: full trapezoids, and the segment crossing the limit cut with y interpolated", () => {
  // (0,0)→(0.2,0.5): 0.05; (0.2,0.5)→(0.4,1) cut at 0.3 where y = 0.75: (0.5+0.75)/2·0.1 = 0.0625.
  near(areaUpTo(curve([0, 0.2, 0.4, 1], [0, 0.5, 1, 1]), 0.3), 0.1125);
  near(areaUpTo(curve([0, 0.2, 0.4, 1], [0, 0.5, 1, 1]), 1), 0.05 + 0.15 + 0.6);
  // A vertical step adds nothing; a limit on a vertex needs no interpolation.
  near(areaUpTo(curve([0, 0, 0.3, 0.3, 1], [0, 1, 1, 0, 0]), 0.3), 0.3);
  assert.throws(() => areaUpTo(curve([0, 0.5, 0.4], [0, 1, 1]), 1), LafiteError);
});

test("AUPRO by hand: a diagonal region of 2 and a single-pixel region, a tie on the crossing segment = 7/16", () => {
  // 4×2 map. Region A = (0,0),(1,1) (diagonal: one region under 8-connectivity), region B = (3,0).
  //   scores  0.9 0.8 0.6 0.7      mask  1 0 0 1
  //           0.3 0.6 0.2 0.1            0 1 0 0
  // Thresholds from the top: 0.9 → (0, ¼); 0.8 → (⅕, ¼); 0.7 → (⅕, ¾); 0.6 (a normal and A's second pixel tie) → (⅖, 1).
  // Area to 0.3: ⅕·¼ = 0.05, then from ⅕ to 0.3 with y from ¾ to ⅞: 0.08125. 0.13125 / 0.3 = 7/16.
  const acc = new ProAccumulator();
  acc.add(Float32Array.from([0.9, 0.8, 0.6, 0.7, 0.3, 0.6, 0.2, 0.1]), Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 0]), 4);
  assert.equal(acc.regions, 2);
  assert.equal(acc.normalPixels, 5);
  near(acc.aupro(), 7 / 16);
  const c = acc.curve();
  assert.deepEqual([...c.x].map((v) => +v.toFixed(6)), [0, 0, 0.2, 0.2, 0.4, 0.6, 0.8, 1, 1]);
  assert.deepEqual([...c.y].map((v) => +v.toFixed(6)), [0, 0.25, 0.25, 0.75, 1, 1, 1, 1, 1]);
});

test("regions count equally, whatever their size, across images; good images add only normal pixels", () => {
  // Image 1: a 4-pixel region fully above every normal; image 2: a 1-pixel region below every normal.
  // PRO is ½ from FPR 0 until the last normal, so AUPRO = ½.
  const acc = new ProAccumulator();
  acc.add(Float32Array.from([5, 5, 5, 5, 1, 1]), Uint8Array.from([1, 1, 1, 1, 0, 0]), 2);
  acc.add(Float32Array.from([0.1, 1, 1]), Uint8Array.from([1, 0, 0]), 3);
  acc.add(Float32Array.from([1, 1, 1, 1]), new Uint8Array(4), 2);
  assert.equal(acc.regions, 2);
  assert.equal(acc.normalPixels, 8);
  near(acc.aupro(), 0.5);
});

test("undefined without regions or without normal pixels; bad maps are refused before counting", () => {
  const acc = new ProAccumulator();
  acc.add(Float32Array.from([1, 2]), new Uint8Array(2), 2);
  assert.throws(() => acc.aupro(), LafiteError);
  assert.throws(() => acc.add(Float32Array.from([1, -1]), Uint8Array.from([1, 0]), 2), LafiteError);
  assert.throws(() => acc.add(Float32Array.from([1, 1, 1]), Uint8Array.from([1, 0, 0]), 2), LafiteError);
  assert.equal(acc.normalPixels, 2);
  const full = new ProAccumulator();
  full.add(Float32Array.from([1, 2]), Uint8Array.from([1, 1]), 2);
  assert.throws(() => full.curve(), LafiteError);
});

function randomMaps(seed: number, quantized: boolean): RefMap[] {
  const rng = createRng(seed);
  return Array.from({ length: 4 }, () => {
    const width = 6 + Math.floor(rng.next() * 8);
    const height = 5 + Math.floor(rng.next() * 6);
    const mask = new Uint8Array(width * height);
    const blobs = Math.floor(rng.next() * 4); // some images are good
    for (let b = 0; b < blobs; b++) {
      const cx = rng.next() * width, cy = rng.next() * height, r = 0.6 + rng.next() * 2.5;
      for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * width + x] = 255;
    }
    // Levels 1.01^i are far more than one bin apart, and repeat, so ties happen.
    const scores = Float32Array.from(mask, (m) => {
      const v = Math.abs(rng.normal() + (m ? 1 : 0));
      return quantized ? Math.fround(1.01 ** Math.round(Math.log(v + 0.05) / Math.log(1.01))) : v;
    });
    return { scores, mask, width };
  });
}

test("the histogram method equals the brute-force reference (sorted thresholds) on random small cases", () => {
  let checked = 0;
  for (let seed = 1; seed <= 30; seed++) {
    const maps = randomMaps(seed, true);
    const acc = new ProAccumulator();
    for (const m of maps) acc.add(m.scores, m.mask, m.width);
    if (acc.regions === 0) continue;
    const ref = referenceProCurve(maps);
    const got = acc.curve();
    assert.equal(got.x.length, ref.x.length, `seed ${seed}`);
    got.x.forEach((v, i) => near(v, ref.x[i]!, 1e-12));
    got.y.forEach((v, i) => near(v, ref.y[i]!, 1e-12));
    near(acc.aupro(), referenceAupro(maps), 1e-12);
    near(acc.aupro(1), referenceAupro(maps, 1), 1e-12);
    checked++;
  }
  assert.ok(checked >= 20, `only ${checked} cases had regions`);
});

test("with continuous scores (some sharing a bin) the histogram AUPRO is within 1e-3 of the exact one", () => {
  let checked = 0;
  for (const seed of [101, 102, 103, 104]) {
    const maps = randomMaps(seed, false);
    const acc = new ProAccumulator();
    for (const m of maps) acc.add(m.scores, m.mask, m.width);
    if (acc.regions === 0) continue;
    near(acc.aupro(PRO_FPR_LIMIT), referenceAupro(maps), 1e-3);
    checked++;
  }
  assert.ok(checked >= 2);
});

test("a sum of accumulators, an empty one among them, has the curve of one accumulator fed every map", () => {
  const maps: Array<[number[], number[], number]> = [
    [[5, 5, 5, 5, 1, 1], [1, 1, 1, 1, 0, 0], 2],
    [[0.1, 1, 1], [1, 0, 0], 3],
    [[1000, 0.001, 2, 3], [0, 0, 0, 1], 2],
  ];
  const all = new ProAccumulator();
  const parts = maps.map(([s, m, w]) => {
    const a = new ProAccumulator();
    a.add(Float32Array.from(s), Uint8Array.from(m), w);
    all.add(Float32Array.from(s), Uint8Array.from(m), w);
    return a;
  });
  const summed = ProAccumulator.sum([new ProAccumulator(), ...parts]);
  assert.deepEqual(summed.curve(), all.curve());
  assert.equal(summed.aupro(), all.aupro());
  assert.equal(summed.regions, 3);
});
