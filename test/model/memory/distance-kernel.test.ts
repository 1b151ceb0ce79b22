import { test } from "node:test";
import assert from "node:assert/strict";
import { classCoreset } from "../../../src/model/memory/class-coreset.js";
import { greedyCoresetSelectionAsync } from "../../../src/model/memory/coreset.js";
import { KernelArena, distanceKernelModule, instantiateKernel } from "../../../src/model/memory/distance-kernel.js";
import { sqDistAt } from "../../../src/model/memory/row-distance.js";
import { createRng } from "../../../src/util/random.js";
import { gaussianData } from "../../support/k-center-reference.js";

test("the WebAssembly kernel is built and loads (the build assembles distance-kernel.wat)", () => {
  assert.ok(distanceKernelModule(), "dist/src/model/memory/distance-kernel.wasm is missing or did not compile");
});

test("its distance equals the JavaScript kernel's bit for bit, for every length mod 4 and values of every scale", () => {
  const module = distanceKernelModule()!;
  const arena = KernelArena.create(1 << 20)!;
  const kernel = instantiateKernel(module, arena.memory);
  const rng = createRng(17);
  const rows = arena.float32(2 * 300);
  let compared = 0;
  for (const d of [1, 2, 3, 4, 5, 7, 8, 13, 64, 127, 128, 130, 300]) {
    for (let trial = 0; trial < 40; trial++) {
      // Mixed magnitudes make the summation order matter, so any other order would show.
      const scale = 10 ** Math.floor(rng.next() * 13 - 6);
      for (let t = 0; t < 2 * d; t++) rows[t] = rng.normal() * scale * (rng.next() < 0.1 ? 1e4 : 1);
      const expected = sqDistAt(rows, 0, rows, d, d);
      const got = kernel.sqDist(rows.byteOffset, rows.byteOffset + d * 4, d);
      assert.ok(Object.is(got, expected), `d ${d}, trial ${trial}: ${got} ≠ ${expected}`);
      compared++;
    }
  }
  assert.equal(compared, 13 * 40);
});

test("coreset selection: the kernel picks exactly what the JavaScript loops pick, with the same radius and scan share (pruned or not, 1 or 2 threads, projected or not)", async () => {
  const n = 3001, c = 24;
  const x = gaussianData(n, c, 23);
  for (const projectionDim of [10, 64]) {
    for (const prune of [true, false]) {
      const reference = await greedyCoresetSelectionAsync(x, n, c, 60, { projectionDim, prune, seed: 3, threads: 1, kernel: "js" });
      for (const threads of [1, 2]) {
        const got = await greedyCoresetSelectionAsync(x, n, c, 60, { projectionDim, prune, seed: 3, threads, kernel: "wasm" });
        const what = `projection ${projectionDim}, prune ${prune}, threads ${threads}`;
        assert.deepEqual([...got.selected], [...reference.selected], what);
        assert.equal(got.coverageRadius, reference.coverageRadius, what);
        assert.equal(got.scanFraction, reference.scanFraction, what);
        assert.deepEqual([...got.measured!.points], [...reference.measured!.points], what);
        assert.equal(got.kernel, "wasm", what);
        assert.equal(reference.kernel, "js", what);
      }
    }
  }
});

test("a unified selection (within classes, then the global pass from the searched cover) is the same on either kernel", async () => {
  const n = 2400, c = 12;
  const x = gaussianData(n, c, 8);
  const rowClass = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
  const js = await classCoreset(x, n, c, 90, rowClass, 0.6, { projectionDim: 64, seed: 2, kernel: "js" });
  const wasm = await classCoreset(x, n, c, 90, rowClass, 0.6, { projectionDim: 64, seed: 2, kernel: "wasm" });
  assert.deepEqual([...wasm.selected], [...js.selected]);
  assert.equal(wasm.coverageRadius, js.coverageRadius);
});

test("an arena larger than the kernel can address is refused, so the selection falls back to the JavaScript loops", () => {
  assert.equal(KernelArena.create(2 ** 31), undefined);
  const arena = KernelArena.create(100)!;
  const a = arena.float64(3);
  const b = arena.int32(1);
  assert.equal(a.byteOffset % 16, 0);
  assert.equal(b.byteOffset, 32, "views are 16-byte aligned, one after the other");
  assert.throws(() => arena.float32(1e6), RangeError);
});
