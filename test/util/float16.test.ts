import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFloat16, encodeFloat16, fromHalfBits, toHalfBits } from "../../src/util/float16.js";

test("float16: known bit patterns both ways (IEEE 754 binary16 table values)", () => {
  const cases: [number, number][] = [
    [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
    [2 ** -14, 0x0400], [2 ** -24, 0x0001], [0.333251953125, 0x3555], [Infinity, 0x7c00], [-Infinity, 0xfc00],
  ];
  for (const [v, bits] of cases) {
    assert.equal(toHalfBits(v), bits, `to ${v}`);
    assert.ok(Object.is(fromHalfBits(bits), v), `from 0x${bits.toString(16)}`);
  }
  assert.ok(Number.isNaN(fromHalfBits(toHalfBits(NaN))));
  assert.equal(toHalfBits(65520), 0x7c00, "rounds past the largest half to Infinity");
});

test("float16: rounding is to nearest even and within half an ulp, checked against an exhaustive decode table", () => {
  // Independent reference: every finite half value, sorted; the nearest one (ties to the even pattern) is the answer.
  const table: { v: number; bits: number }[] = [];
  for (let b = 0; b < 0x7c00; b++) table.push({ v: fromHalfBits(b), bits: b });
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < 3000; i++) {
    const x = Math.fround(rand() ** 3 * 60000);
    let lo = 0, hi = table.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (table[mid]!.v <= x) lo = mid; else hi = mid;
    }
    const a = table[lo]!, b = table[hi]!;
    const da = x - a.v, db = b.v - x;
    const want = da < db ? a.bits : db < da ? b.bits : (a.bits & 1) === 0 ? a.bits : b.bits;
    assert.equal(toHalfBits(x), want, `x = ${x}`);
  }
  const xs = Float32Array.from([0.1, -3.75, 1e-6, 1234.5]);
  const back = decodeFloat16(encodeFloat16(xs));
  for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(back[i]! - xs[i]!) <= Math.max(Math.abs(xs[i]!) * 2 ** -11, 2 ** -25), `${xs[i]} → ${back[i]}`);
});
