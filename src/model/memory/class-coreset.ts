/**
 * Coreset selection for a unified model of many classes: a share of the rows
 * is chosen within each class, the rest over all candidates together.
 *
 * Greedy k-center over all classes at once (coreset.ts) spends its rows
 * where the feature space is widest. On the realistic suite that is the
 * class of 700 non-square tiles: it took 7,300 of 10,000 rows, the logical
 * assembly 180 and the 25-image high-resolution texture 170, and which rows
 * the small classes got changed with the seed, so one fit's pixel AUROC on
 * that texture ranged from 76 to 93 over three seeds (bench:memory
 * --per-class-share, issue 10 session 9). Rows chosen per class give every
 * class a fixed budget, so a small class is covered as well in every fit.
 *
 * `perClassShare` of the rows are split over the classes in proportion to
 * the square root of each class's candidate count (a class with 4× the
 * candidates gets 2× the rows; none more than it has) and chosen by greedy
 * k-center inside each class. The remaining rows continue the greedy
 * selection over all candidates from those picks. Share 0 is the plain
 * global selection; share 1 skips the global pass.
 *
 * Every run uses the same seed, so all of them measure distances in the same
 * random projection (the one fit stores for incremental refreshes).
 */
import { invalidInput } from "../../util/errors.js";
import type { FeatureMap } from "../types.js";
import { candidateIds, gatherCandidateRows, weightedFill, type CandidateSampling } from "./candidates.js";
import { greedyCoresetSelectionAsync, type CoresetOptions, type CoresetSelection, type InitialCover } from "./coreset.js";
import { nearestInitialPicks } from "./nearest-picks.js";
import { classMembers, gatherRows } from "./rows.js";

export interface ClassCoresetSelection extends CoresetSelection {
  /** Rows taken from each class's candidates, by class index. */
  readonly rowsPerClass: number[];
  /** Row–center distances computed in the search for the classes' picks' cover (a matrix product), over n × picks. */
  readonly searchFraction: number;
}

/**
 * @param rows        candidate rows, n×c row-major.
 * @param rowClass    class index of each candidate row (0 … classes − 1).
 * @param perClassShare fraction of `count` chosen within the classes, in [0, 1].
 *
 * The covering radius is measured over all candidates when the global pass
 * runs. With share 1 it is the largest of the classes' own radii, an upper
 * bound (a row's nearest pick may belong to another class), because
 * measuring it exactly would cost a full scan of every row against every pick.
 */
export async function classCoreset(rows: Float32Array, n: number, c: number, count: number, rowClass: Int32Array, perClassShare: number, options: CoresetOptions = {}): Promise<ClassCoresetSelection> {
  if (!(perClassShare >= 0 && perClassShare <= 1)) throw invalidInput(`per-class share ${perClassShare} must be between 0 and 1`);
  if (rowClass.length !== n) throw invalidInput(`${rowClass.length} row classes for ${n} candidate rows`);
  if (options.initial) throw invalidInput("class coreset chooses its own initial picks");
  const members = classMembers(rowClass);
  const classes = members.length;
  const { perClassTotal, shares } = classBudgets(count, members.map((m) => m.length), perClassShare);
  const progressTotal = perClassTotal + (perClassTotal < count ? count : 0);
  let progressDone = 0;
  // The search reports its rows as a share of the initial picks, and the global pass then reports them placed again: forward each value once.
  let reported = 0;
  const report = (done: number) => {
    if (progressDone + done <= reported) return;
    reported = progressDone + done;
    options.onProgress?.(reported, progressTotal);
  };

  const byClass: number[][] = [];
  // Each class's rows and the selection over them, whose measured points the global pass's cover searches.
  const passes: { ids: readonly number[]; sel: CoresetSelection }[] = [];
  let radius = 0;
  let scanned = 0;
  // "wasm" only if every pass ran on the WebAssembly kernel.
  let kernel: CoresetSelection["kernel"] = "wasm";
  for (let k = 0; k < classes; k++) {
    const ids = members[k]!;
    const want = shares[k]!;
    if (want === 0) continue;
    const sel = await greedyCoresetSelectionAsync(gatherRows(rows, c, ids), ids.length, c, want, { ...options, onProgress: (done) => report(done) });
    byClass.push(Array.from(sel.selected, (s) => ids[s]!));
    passes.push({ ids, sel });
    radius = Math.max(radius, sel.coverageRadius);
    if (sel.kernel === "js") kernel = "js";
    scanned += sel.scanFraction * ids.length * want;
    progressDone += want;
  }
  const countByClass = (selected: Int32Array) => {
    const out = new Array<number>(classes).fill(0);
    for (const i of selected) out[rowClass[i]!]!++;
    return out;
  };
  const picks = byClass.flat();
  if (picks.length === count) {
    const selected = Int32Array.from(picks);
    return { selected, coverageRadius: radius, scanFraction: scanned / (n * count), rowsPerClass: countByClass(selected), searchFraction: 0, kernel };
  }
  const initial = interleave(byClass);
  // Every class has been measured (no class got 0 rows) and pruning is on (off, the selection is the plain reference): one search finds each row's nearest initial pick.
  const coverable = passes.length === members.filter((m) => m.length > 0).length && options.prune !== false;
  const initialCover = coverable ? await nearestClassPicks(passes, rowClass, initial, n, options, (done) => report(Math.floor((initial.length * done) / n))) : undefined;
  // The classes' measured points (a second copy of every candidate) are not needed past the search.
  passes.length = 0;
  const global = await greedyCoresetSelectionAsync(rows, n, c, count, { ...options, initial, ...(initialCover ? { initialCover } : {}), onProgress: (done) => report(done) });
  // The classes' picks in class order, then the global ones: the order the rows had before the interleaving.
  const selected = Int32Array.from([...picks, ...global.selected.subarray(picks.length)]);
  return {
    selected,
    coverageRadius: global.coverageRadius,
    scanFraction: (scanned + global.scanFraction * n * count) / (n * count),
    rowsPerClass: countByClass(selected),
    searchFraction: initialCover ? initial.length / count : 0,
    kernel: global.kernel === "js" ? "js" : kernel,
  };
}

/**
 * The classes' picks taken in turn (the first of each class, then the second
 * of each, …) as the global pass's initial order. The set of initial picks,
 * so every row's distance to its nearest one and every later pick, is the
 * same in any order, but the order decides how much the triangle inequality
 * saves: class by class, every row of a class not yet reached is far from all
 * picks so far and is measured against each of them (on the realistic suite
 * the initial picks took 97 of the coreset's 176 s); in turn, every row has a
 * pick of its own class after the first round, and the other classes' picks,
 * far from it, are skipped. Since each row's nearest initial pick is searched
 * for at once (nearest-picks.ts; 85 → 4 s there), the order matters only where
 * the global pass still scans per pick: a class left without picks.
 */
export function interleave(lists: readonly (readonly number[])[]): Int32Array {
  const out: number[] = [];
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return Int32Array.from(out);
}

/**
 * Each row's nearest initial pick (nearest-picks.ts), searched in the space
 * the classes' selections measured in: their points, the picks' rows among
 * them.
 */
async function nearestClassPicks(
  passes: readonly { ids: readonly number[]; sel: CoresetSelection }[], rowClass: Int32Array, initial: Int32Array, n: number,
  options: CoresetOptions, onProgress: (done: number) => void,
): Promise<InitialCover> {
  const d = passes[0]!.sel.measured!.dim;
  const local = new Int32Array(n);
  const pointsOf = new Map<number, Float32Array>();
  for (const { ids, sel } of passes) {
    ids.forEach((row, r) => (local[row] = r));
    pointsOf.set(rowClass[ids[0]!]!, sel.measured!.points);
  }
  const picks = new Float32Array(initial.length * d);
  initial.forEach((row, j) => {
    const r = local[row]! * d;
    picks.set(pointsOf.get(rowClass[row]!)!.subarray(r, r + d), j * d);
  });
  const groups = passes.map(({ ids, sel }) => ({ points: sel.measured!.points, rows: ids }));
  return nearestInitialPicks(picks, initial.length, d, groups, n, { ...(options.threads !== undefined ? { threads: options.threads } : {}), ...(options.signal ? { signal: options.signal } : {}), onProgress });
}

/** The rows chosen within the classes, and each class's part of them: ∝ √(its candidates), none above what it has. */
function classBudgets(count: number, classCandidates: readonly number[], perClassShare: number): { perClassTotal: number; shares: number[] } {
  const perClassTotal = Math.round(count * perClassShare);
  return { perClassTotal, shares: weightedFill(classCandidates, classCandidates.map(Math.sqrt), perClassTotal) };
}

/**
 * Distance updates the selection makes without pruning (centers × rows it
 * scans), for the fit's ETA: each class's picks over its own candidates,
 * plus, below share 1, the global pass's remaining picks over all of them
 * and the search for each row's nearest class pick, counted as one update
 * per SEARCH_DISTANCES_PER_UPDATE distances of its matrix product.
 */
export function classCoresetWork(count: number, classCandidates: readonly number[], perClassShare: number): number {
  const { perClassTotal, shares } = classBudgets(count, classCandidates, perClassShare);
  const n = classCandidates.reduce((a, b) => a + b, 0);
  const within = shares.reduce((a, k, i) => a + k * classCandidates[i]!, 0);
  return within + (perClassTotal < count ? (count - perClassTotal) * n + (perClassTotal * n) / SEARCH_DISTANCES_PER_UPDATE : 0);
}

/** The search's 1.9·10⁹ distances took 4.3 s on the realistic suite with kit, the remaining 2,500 picks' 6.3·10⁸ updates 21 s: 16 distances cost about one update. */
const SEARCH_DISTANCES_PER_UPDATE = 16;

/** Class index of each candidate slice id (image · positions + position), from the class of each bank image. */
export function slicesClasses(ids: Int32Array, imageClasses: readonly string[], positionsPerImage: number): { rowClass: Int32Array; classes: string[] } {
  const classes = [...new Set(imageClasses)].sort();
  const index = new Map(classes.map((k, i) => [k, i]));
  const rowClass = new Int32Array(ids.length);
  ids.forEach((id, r) => (rowClass[r] = index.get(imageClasses[Math.floor(id / positionsPerImage)]!)!));
  return { rowClass, classes };
}

/** A memory bank chosen from a fit's bank images: its rows (count × c) and how they were chosen. */
export interface BankCoreset {
  readonly coreset: Float32Array;
  readonly count: number;
  /** Rows taken from each class, by class name. */
  readonly classRows: Record<string, number>;
  readonly coverageRadius: number;
  readonly scanFraction: number;
  readonly searchFraction: number;
  /** Which loops measured the distances (CoresetSelection.kernel). */
  readonly kernel: "wasm" | "js";
  /** Class of each chosen row (an index into `classNames`), in row order. */
  readonly rowClasses: Int32Array;
  readonly classNames: string[];
}

/**
 * What fit does (and the benches repeat): draw `candidates` slices of the
 * bank images, choose `count` of them by {@link classCoreset}, and copy the
 * chosen rows out.
 */
export async function bankCoreset(
  bank: readonly FeatureMap[],
  bankClasses: readonly string[],
  plan: { readonly candidates: number; readonly count: number; readonly sampling: CandidateSampling; readonly seed: number; readonly projectionDim: number; readonly perClassShare: number },
  options: Omit<CoresetOptions, "seed" | "projectionDim" | "initial"> = {},
): Promise<BankCoreset> {
  const { c, h, w } = bank[0]!;
  const hw = h * w;
  const ids = candidateIds({ imageClasses: bankClasses, positionsPerImage: hw, count: plan.candidates, seed: plan.seed, sampling: plan.sampling });
  const rows = gatherCandidateRows(bank, ids);
  const { rowClass, classes } = slicesClasses(ids, bankClasses, hw);
  const sel = await classCoreset(rows, plan.candidates, c, plan.count, rowClass, plan.perClassShare, { ...options, projectionDim: plan.projectionDim, seed: plan.seed });
  const coreset = gatherRows(rows, c, sel.selected);
  const classRows = Object.fromEntries(classes.map((k, i) => [k, sel.rowsPerClass[i] ?? 0]));
  const rowClasses = Int32Array.from(sel.selected, (r) => rowClass[r]!);
  return { coreset, count: plan.count, classRows, coverageRadius: sel.coverageRadius, scanFraction: sel.scanFraction, searchFraction: sel.searchFraction, kernel: sel.kernel, rowClasses, classNames: classes };
}
