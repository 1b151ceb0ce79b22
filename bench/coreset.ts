/**
 * Greedy k-center coreset on n=150 000 random c=320 features (28×28 grid
 * positions of ~190 images), projected to 128 dims: median of 3 runs for a
 * 1% and a 10% keep rate, plus the single-thread time at 1% for the speed-up
 * of the worker split, and the full scan (prune: false) at both rates for the
 * triangle-inequality pruning's. Isotropic noise is pruning's worst case
 * (distances concentrate, few rows can be skipped), so this bounds its
 * overhead; bench:memory and lafite fit show its gain on real features.
 *   node dist/bench/coreset.js [runs]
 */
import { availableParallelism } from "node:os";
import { greedyCoreset, type CoresetOptions } from "../src/model/memory/coreset.js";
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
const oneFull = time(n / 100, { prune: false });
console.log(`  1% (${n / 100} picks), full scan: ${oneFull.toFixed(2)} s  (pruned ×${(oneFull / one).toFixed(2)} faster)`);
const ten = time(n / 10, {});
console.log(`  10% (${n / 10} picks), default: ${ten.toFixed(2)} s  (${((ten - setup) / (n / 10) * 1000).toFixed(2)} ms per pick)`);
const tenFull = time(n / 10, { prune: false });
console.log(`  10% (${n / 10} picks), full scan: ${tenFull.toFixed(2)} s  (pruned ×${(tenFull / ten).toFixed(2)} faster)`);
