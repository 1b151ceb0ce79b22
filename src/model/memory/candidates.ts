/**
 * Which feature slices the coreset selection considers when there are more
 * than it can afford (memory.maxCandidates). A slice id is
 * image · positionsPerImage + position, images in bank order.
 *
 *   uniform:    a seeded random subset of all slices. A class with 25
 *               images then gets 25/1,600 of the candidates and competes
 *               with one of 700 for coreset rows.
 *   stratified: every class gets an equal share (a class with fewer slices
 *               than its share gives the rest to the others), and inside a
 *               class every image an equal share of that, positions drawn at
 *               random per image. Small classes keep all their slices; the
 *               biggest class gets far fewer than uniform gives it.
 *   balanced:   as stratified, but class shares in proportion to the square
 *               root of the class's slice count: between the two.
 *
 * Pure and seeded; the result is sorted so rows are gathered in memory order.
 */
import { createRng, type Rng } from "../../util/random.js";
import type { FeatureMap } from "../types.js";

export type CandidateSampling = "uniform" | "stratified" | "balanced";

export interface CandidatePlan {
  /** Class of each bank image, in bank order. */
  readonly imageClasses: readonly string[];
  readonly positionsPerImage: number;
  readonly count: number;
  readonly seed: number;
  readonly sampling: CandidateSampling;
}

export function candidateIds(plan: CandidatePlan): Int32Array {
  const { imageClasses, positionsPerImage: hw, seed } = plan;
  const total = imageClasses.length * hw;
  const count = Math.min(plan.count, total);
  if (!Number.isInteger(hw) || hw < 1) throw new RangeError(`positions per image must be a positive integer (got ${hw})`);
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`candidate count must be a non-negative integer (got ${plan.count})`);
  if (count === total) return Int32Array.from({ length: total }, (_, i) => i);
  const rng = createRng(seed ^ 0x5eed);
  const ids = plan.sampling === "uniform" ? partialShuffle(total, count, rng) : stratifiedIds(imageClasses, hw, count, rng, plan.sampling === "balanced");
  return ids.sort();
}

/**
 * Splits `count` over groups of the given capacities as evenly as possible
 * (water-filling): no group gets more than its capacity, and the shares of
 * groups not at capacity differ by at most one. Leftover units go to the
 * first groups in order, so the split is deterministic.
 */
export function waterFill(capacities: readonly number[], count: number): number[] {
  return weightedFill(capacities, capacities.map(() => 1), count);
}

/**
 * Splits `count` over groups in proportion to their weights, none above its
 * capacity (weighted water-filling): the level λ with Σ min(capacity, λ·weight)
 * = count, then whole units by largest remainder (ties to the first group).
 */
export function weightedFill(capacities: readonly number[], weights: readonly number[], count: number): number[] {
  const n = capacities.length;
  const share = new Array<number>(n).fill(0);
  let left = Math.min(count, capacities.reduce((a, b) => a + b, 0));
  let open = capacities.map((_, i) => i).filter((i) => capacities[i]! > 0 && weights[i]! > 0);
  // Groups whose proportional share exceeds their capacity take all of it; repeat until none does.
  for (;;) {
    const totalWeight = open.reduce((a, i) => a + weights[i]!, 0);
    const level = totalWeight > 0 ? left / totalWeight : 0;
    const full = open.filter((i) => level * weights[i]! >= capacities[i]!);
    if (full.length === 0) {
      for (const i of open) share[i] = level * weights[i]!;
      break;
    }
    for (const i of full) (share[i] = capacities[i]!), (left -= capacities[i]!);
    open = open.filter((i) => !full.includes(i));
  }
  const whole = share.map(Math.floor);
  let units = Math.min(count, capacities.reduce((a, b) => a + b, 0)) - whole.reduce((a, b) => a + b, 0);
  const byRemainder = share.map((v, i) => ({ i, r: v - Math.floor(v) })).filter(({ i }) => whole[i]! < capacities[i]!).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (units <= 0) break;
    whole[i]!++;
    units--;
  }
  return whole;
}

/**
 * How many of `count` candidates each class gets, from each class's slice
 * count: exact for stratified and balanced sampling, the expectation
 * (rounded) for uniform.
 */
export function candidatesPerClass(classSlices: readonly number[], count: number, sampling: CandidateSampling): number[] {
  const total = classSlices.reduce((a, b) => a + b, 0);
  if (count >= total) return [...classSlices];
  if (sampling === "uniform") return classSlices.map((s) => Math.round((s * count) / total));
  return weightedFill(classSlices, sampling === "balanced" ? classSlices.map(Math.sqrt) : classSlices.map(() => 1), count);
}

function stratifiedIds(imageClasses: readonly string[], hw: number, count: number, rng: Rng, bySqrtSize: boolean): Int32Array {
  const imagesOf = new Map<string, number[]>();
  imageClasses.forEach((cls, i) => imagesOf.set(cls, [...(imagesOf.get(cls) ?? []), i]));
  const classes = [...imagesOf.keys()].sort();
  const sizes = classes.map((c) => imagesOf.get(c)!.length * hw);
  const perClass = candidatesPerClass(sizes, count, bySqrtSize ? "balanced" : "stratified");
  const ids = new Int32Array(count);
  let o = 0;
  classes.forEach((cls, ci) => {
    const images = imagesOf.get(cls)!;
    // Which images take the leftover units is drawn, so it is not always the first files of a class.
    const order = partialShuffle(images.length, images.length, rng);
    const perImage = waterFill(images.map(() => hw), perClass[ci]!);
    order.forEach((imageIdx, j) => {
      const take = perImage[j]!;
      if (take === 0) return;
      const base = images[imageIdx]! * hw;
      for (const p of partialShuffle(hw, take, rng)) ids[o++] = base + p;
    });
  });
  return ids;
}

/** `count` distinct ids out of [0, n) by a partial Fisher–Yates, without materializing a permutation of all n. */
function partialShuffle(n: number, count: number, rng: Rng): Int32Array {
  const swapped = new Map<number, number>();
  const ids = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    ids[i] = vj;
  }
  return ids;
}

/** The rows (ids.length × c) of the given slices of a bank of feature maps, in the order of `ids`. */
export function gatherCandidateRows(bank: readonly FeatureMap[], ids: Int32Array): Float32Array {
  const { c, h, w } = bank[0]!;
  const hw = h * w;
  const rows = new Float32Array(ids.length * c);
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r]!;
    const x = bank[Math.floor(id / hw)]!;
    const pos = id % hw;
    for (let ch = 0; ch < c; ch++) rows[r * c + ch] = x.data[ch * hw + pos]!;
  }
  return rows;
}

/** How many candidates a fit considers and how many coreset rows it keeps, from the memory config and the bank's slice count. */
export function coresetBudget(slices: number, memory: { readonly maxCandidates: number; readonly maxCoresetSize: number; readonly keepRate: number }): { candidates: number; count: number } {
  const candidates = Math.min(slices, memory.maxCandidates);
  return { candidates, count: Math.max(1, Math.min(candidates, memory.maxCoresetSize, Math.round(memory.keepRate * slices))) };
}
