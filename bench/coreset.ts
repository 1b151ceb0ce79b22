/**
 * Greedy k-center coreset on n=150 000 random c=320 features (28×28 grid
 * positions of ~190 images), projected to 128 dims: median of 3 runs for a
 * 1% and a 10% keep rate, plus the single-thread time at 1% for the speed-up
 * of the worker split, and the full scan (prune: false) at both rates for the
 * triangle-inequality pruning's, and the JavaScript loops at both rates for
 * the WebAssembly kernel's (distance-kernel.ts). Isotropic noise is pruning's worst case
 * (distances concentrate, few rows can be skipped), so this bounds its
 * overhead; bench:memory and lafite fit show its gain on real features.
 *
 * Then a unified fit's selection (class-coreset.ts) on 7 classes of
 * clustered rows (c = 120, unprojected, as the default backbone's): 75 % of
 * the rows chosen within the classes, then the global pass from each row's
 * nearest class pick found by one search (nearest-picks.ts), against the
 * global pass measuring every row against each class pick in turn (the
 * selection before the search), with the picks compared.
 *   node dist/bench/coreset.js [runs]
 */
import { availableParallelism } from "node:os";
import { classCoreset, interleave } from "../src/model/memory/class-coreset.js";
import { greedyCoreset, greedyCoresetSelectionAsync, type CoresetOptions } from "../src/model/memory/coreset.js";
import { createRng } from "../src/util/random.js";

const n = 150_000, c = 320;
const runs = Number(process.argv[2] ?? 3);

const rng = createRng(1);
const features = new Float32Array(n * c);
for (let i = 0; i < features.length; i++) features[i] = rng.normal();

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(count: number, options: CoresetOptions): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    greedyCoreset(features, n, c, count, { seed: r, ...options });
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

console.log(`coreset bench: n=${n} c=${c} projection 128, ${availableParallelism()} cores, median of ${runs}`);
const setup = time(1, {});
console.log(`  projection + start (1 pick):  ${setup.toFixed(2)} s`);
const one1 = time(n / 100, { threads: 1 });
console.log(`  1% (${n / 100} picks), 1 thread:  ${one1.toFixed(2)} s`);
const one = time(n / 100, {});
console.log(`  1% (${n / 100} picks), default:   ${one.toFixed(2)} s  (×${(one1 / one).toFixed(2)} vs 1 thread)`);
const oneJs = time(n / 100, { kernel: "js" });
console.log(`  1% (${n / 100} picks), JavaScript loops: ${oneJs.toFixed(2)} s  (WebAssembly kernel ×${(oneJs / one).toFixed(2)} faster)`);
const oneFull = time(n / 100, { prune: false });
console.log(`  1% (${n / 100} picks), full scan: ${oneFull.toFixed(2)} s  (pruned ×${(oneFull / one).toFixed(2)} faster)`);
const ten = time(n / 10, {});
console.log(`  10% (${n / 10} picks), default: ${ten.toFixed(2)} s  (${((ten - setup) / (n / 10) * 1000).toFixed(2)} ms per pick)`);
const tenJs = time(n / 10, { kernel: "js" });
console.log(`  10% (${n / 10} picks), JavaScript loops: ${tenJs.toFixed(2)} s  (WebAssembly kernel ×${(tenJs / ten).toFixed(2)} faster)`);
const tenFull = time(n / 10, { prune: false });
console.log(`  10% (${n / 10} picks), full scan: ${tenFull.toFixed(2)} s  (pruned ×${(tenFull / ten).toFixed(2)} faster)`);

// A unified fit's selection: classes of unequal size, each a mix of clusters, the classes partly overlapping.
const classSizes = [12_000, 30_000, 18_000, 24_000, 9_000, 30_000, 18_000];
const cc = 120, count = 5_600, share = 0.75;
const nc = classSizes.reduce((a, b) => a + b, 0);
const rows = new Float32Array(nc * cc);
const rowClass = new Int32Array(nc);
{
  let at = 0;
  classSizes.forEach((size, k) => {
    const centers = Array.from({ length: 6 }, () => Float32Array.from({ length: cc }, () => rng.normal() * 1.5 + (k % 3)));
    for (let i = 0; i < size; i++, at++) {
      const m = centers[i % 6]!;
      for (let j = 0; j < cc; j++) rows[at * cc + j] = m[j]! + rng.normal() * 0.6;
      rowClass[at] = k;
    }
  });
}
const searched: number[] = [], scanned: number[] = [];
let same = true;
for (let r = 0; r < runs; r++) {
  let t = performance.now();
  const sel = await classCoreset(rows, nc, cc, count, rowClass, share, { seed: r, projectionDim: 128 });
  searched.push((performance.now() - t) / 1000);
  t = performance.now();
  const perClass = await classCoreset(rows, nc, cc, Math.round(count * share), rowClass, 1, { seed: r, projectionDim: 128 });
  const byClass = classSizes.map((_, k) => [...perClass.selected].filter((i) => rowClass[i] === k));
  const global = await greedyCoresetSelectionAsync(rows, nc, cc, count, { seed: r, projectionDim: 128, initial: interleave(byClass) });
  scanned.push((performance.now() - t) / 1000);
  same &&= sel.selected.subarray(perClass.selected.length).every((v, i) => v === global.selected[perClass.selected.length + i]);
}
const tSearch = median(searched), tScan = median(scanned);
console.log(`class coreset: ${classSizes.length} classes, ${nc} rows, c=${cc}, ${count} picks (${share * 100}% within the classes)`);
console.log(`  selection, the global pass from the searched cover: ${tSearch.toFixed(2)} s`);
console.log(`  selection, the global pass scanning each class pick: ${tScan.toFixed(2)} s  (searched ×${(tScan / tSearch).toFixed(2)} faster; ${same ? "the same picks" : "DIFFERENT PICKS"})`);
if (!same) process.exitCode = 1;
