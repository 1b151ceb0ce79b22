/**
 * Memory-bank subsampling (paper 3.3, PatchCore's coreset): greedy k-center
 * selection over a Johnson–Lindenstrauss random projection of the features.
 * Each pick is the point farthest from everything picked so far, so the
 * coreset covers the feature space (its covering radius is within a factor 2
 * of optimal) while keeping only a few percent of the slices.
 *
 * Cost is count × n × d multiply-adds (d = projection dim), e.g. 15 000 picks
 * over 150 000 slices is ~3·10¹¹, so the distance update is one tight loop
 * over a contiguous row-major matrix. On multi-core machines the rows are cut
 * into chunks that this thread and worker threads (coreset-worker.ts) claim
 * from SharedArrayBuffer memory; workers are driven through Atomics, so the
 * selection stays a plain function call. On 2 idle cores this halves the time
 * per pick (bench/coreset.ts).
 *
 * The scan is bound by memory traffic (every row is read at every pick), so
 * it skips rows the new center cannot move, by the triangle inequality: a row
 * at distance r from its nearest pick a cannot come closer than r to a new
 * center c with ‖c − a‖ ≥ 2r. One distance per earlier pick (‖c − a‖ for
 * every a) then saves the row reads of most of the n rows once the radii
 * have shrunk; the picks are exactly those of the full scan (`prune: false`,
 * kept as the reference).
 *
 * The distance loops run as WebAssembly SIMD (distance-kernel.ts) where it
 * loads, over arrays placed in its memory, and compute bit for bit what the
 * JavaScript loops below compute (`kernel: "js"`, the reference).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ErrorCode, LafiteError, invalidInput } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import { createRng } from "../../util/random.js";
import { KernelArena, distanceKernelModule, instantiateKernel, type DistanceKernel } from "./distance-kernel.js";
import { sqDistAt } from "./row-distance.js";

export interface CoresetOptions {
  /** Dimension of the random projection; ≥ c means the original features (exact). Default 128. */
  projectionDim?: number;
  /** Seeds the projection and the first pick. Default 0. */
  seed?: number;
  signal?: AbortSignal;
  /** Called after each pick. */
  onProgress?: (done: number, total: number) => void;
  /** Threads including this one; default min(2, cores), 1 for small inputs. */
  threads?: number;
  /** Skip rows the triangle inequality shows a new center cannot move (default true); false scans every row, the reference. */
  prune?: boolean;
  /**
   * Which distance loops run: "wasm" (distance-kernel.ts, the default where
   * it loads) or "js", the reference; both pick exactly the same rows.
   */
  kernel?: "wasm" | "js";
  /**
   * Rows taken as the first picks, in this order, before the greedy rule
   * chooses the rest (class-coreset.ts: a share of the rows chosen within
   * each class, then the remainder over all of them). Distinct, at most
   * `count`. Without them the first pick is drawn from the seed.
   */
  initial?: Int32Array;
  /**
   * Each row's nearest initial pick, found beforehand (nearest-picks.ts, one
   * batched search instead of a scan per pick): its squared distance, by the
   * selection's own kernel (row-distance.ts), and its index in `initial`.
   * The selection continues from there with the picks it would have made.
   */
  initialCover?: InitialCover;
}

/** Every row's nearest initial pick: squared distance and index into the initial picks. */
export interface InitialCover {
  readonly minDist: Float64Array;
  readonly owner: Int32Array;
}

/** Below this many projected values (n·d) a worker's start-up outweighs its help. */
const MIN_PARALLEL_VALUES = 1 << 20;

/**
 * Greedy k-center coreset: returns `count` row indices of `features` (n×c,
 * row-major) in the order they were picked. The first pick is drawn from the
 * seed; each later pick is the row with the largest distance to its nearest
 * picked row (ties: lowest index). Results do not depend on the thread count.
 *
 * This blocks the calling thread throughout, so a SIGINT-driven signal cannot
 * fire meanwhile (only an abort from onProgress is seen); long jobs should
 * use {@link greedyCoresetAsync}.
 */
export function greedyCoreset(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions = {}): Int32Array {
  const steps = coresetSteps(features, n, c, count, options);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value.selected;
}

/** A selection and how well it covers its input. */
export interface CoresetSelection {
  /** Row indices in pick order. */
  readonly selected: Int32Array;
  /**
   * Covering radius: the largest distance (L2, not squared) from any input row
   * to its nearest picked row, measured in the space the selection ran in
   * (the random projection, or the features themselves when not projected).
   * Incremental refreshes (src/lifecycle/jobs) use it as the target coverage.
   */
  readonly coverageRadius: number;
  /** Row–center distances computed, over n × picks (1 without pruning): how much of the full scan the selection did. */
  readonly scanFraction: number;
  /** Which loops measured the distances (CoresetOptions.kernel; "js" also where the WebAssembly kernel could not be used). */
  readonly kernel: "wasm" | "js";
  /** The rows as the selection measured them (n×dim): their random projection, or the features themselves. Absent when nothing was picked. */
  readonly measured?: { readonly points: Float32Array; readonly dim: number };
}

/**
 * The same selection, yielding to the event loop every ~50 ms so that an
 * AbortSignal fed by SIGINT (interruptSignal) can actually fire during a
 * minutes-long selection.
 */
export async function greedyCoresetAsync(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions = {}): Promise<Int32Array> {
  return (await greedyCoresetSelectionAsync(features, n, c, count, options)).selected;
}

/** {@link greedyCoresetAsync} that also reports the covering radius. */
export async function greedyCoresetSelectionAsync(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions = {}): Promise<CoresetSelection> {
  const steps = coresetSteps(features, n, c, count, options);
  let last = performance.now();
  try {
    let r = steps.next();
    while (!r.done) {
      if (performance.now() - last > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        last = performance.now();
      }
      r = steps.next();
    }
    return r.value;
  } finally {
    // Runs the generator's own cleanup (stopping workers) if we left early.
    steps.return({ selected: new Int32Array(0), coverageRadius: NaN, scanFraction: NaN, kernel: "js" });
  }
}

/** One pick per resumption; the finally block stops workers however the caller leaves. */
function* coresetSteps(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions): Generator<void, CoresetSelection, void> {
  validate(features, n, c, count);
  if (count === 0) return { selected: new Int32Array(0), coverageRadius: Infinity, scanFraction: 0, kernel: "js" };
  const rng = createRng(options.seed ?? 0);
  const dRequested = options.projectionDim ?? 128;
  if (!Number.isInteger(dRequested) || dRequested < 1) throw invalidInput(`projection dimension ${dRequested} must be a positive integer`);
  const project = dRequested < c;
  const d = project ? dRequested : c;
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(2, availableParallelism()), n));
  const parallel = threads > 1 && (options.threads !== undefined || n * d >= MIN_PARALLEL_VALUES);

  const initial = options.initial ?? new Int32Array(0);
  validateInitial(initial, n, count);
  const cover = options.initialCover;
  const prune = options.prune ?? true;
  if (cover) validateCover(cover, n, initial);
  const what = "coreset selection";
  throwIfCancelled(options.signal, what);
  // Workers can only see memory backed by a SharedArrayBuffer.
  const alloc = (bytes: number) => (parallel ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const projection = project ? gaussianProjection(rng, c, d) : undefined;
  // The arrays the distance loops touch: in the kernel's memory when it runs them.
  const arena = kernelArena(options.kernel, n, d, count, prune);
  const points = arena ? arena.float32(n * d) : project ? new Float32Array(alloc(n * d * 4)) : parallel && !(features.buffer instanceof SharedArrayBuffer) ? copyTo(features, alloc) : features;
  if (arena && !project) points.set(features);
  const minDist = (arena ? arena.float64(n) : new Float64Array(alloc(n * 8))).fill(Infinity);
  const chunks = Math.min(CHUNKS, n);

  const state: SharedState = {
    control: new Int32Array(alloc(CONTROL_WORDS * 4)),
    chunkBest: new Int32Array(alloc(chunks * 4)),
    chunkScanned: new Float64Array(alloc(chunks * 8)),
    chunks,
    picks: arena ? arena.int32(count) : new Int32Array(alloc(count * 4)),
    pickDist: prune ? (arena ? arena.float64(count) : new Float64Array(alloc(count * 8))) : undefined,
    owner: prune ? (arena ? arena.int32(n) : new Int32Array(alloc(n * 4))).fill(-1) : undefined,
    features: parallel && project ? sharedCopy(features) : project ? features : points,
    points,
    minDist,
    projection,
    n,
    c,
    d,
    kernel: arena ? { module: distanceKernelModule()!, memory: arena.memory } : undefined,
  };
  const team = new Team(state, parallel ? threads - 1 : 0);
  try {
    if (projection) team.run(TASK_PROJECT, 0);
    let center = initial.length > 0 ? initial[0]! : Math.min(n - 1, Math.floor(rng.next() * n));
    let bestValue = Infinity;
    let start = 0;
    if (cover) {
      // The state a scan of every row against each initial pick would have left.
      state.picks.set(initial);
      minDist.set(cover.minDist);
      state.owner?.set(cover.owner);
      ({ center, bestValue } = farthestRow(minDist));
      start = initial.length;
      options.onProgress?.(start, count);
      yield;
    }
    for (let s = start; s < count; s++) {
      throwIfCancelled(options.signal, what);
      state.picks[s] = center;
      // The new center's distance to every earlier pick, for the skip test.
      if (prune && s > 0) team.run(TASK_PICK_DISTANCES, s);
      team.run(TASK_UPDATE, s);
      ({ center, bestValue } = chunkWinner(state));
      if (s + 1 < initial.length) center = initial[s + 1]!;
      options.onProgress?.(s + 1, count);
      yield;
    }
    // After the last update, the farthest row's squared distance to its nearest pick.
    let scanned = 0;
    for (let k = 0; k < chunks; k++) scanned += state.chunkScanned[k]!;
    // slice(): a plain copy, not a view of workers' shared memory.
    return { selected: state.picks.slice(), coverageRadius: Math.sqrt(Math.max(0, bestValue)), scanFraction: scanned / (n * count), kernel: arena ? "wasm" : "js", measured: { points, dim: d } };
  } finally {
    team.stop();
  }
}

/**
 * The kernel's memory for a selection's arrays (points, distances, owners,
 * picks and their distances), or undefined when the JavaScript loops run:
 * asked for, or the kernel is unavailable, or the arrays exceed its memory.
 */
function kernelArena(kernel: CoresetOptions["kernel"], n: number, d: number, count: number, prune: boolean): KernelArena | undefined {
  if (kernel === "js" || !distanceKernelModule()) return undefined;
  const bytes = KernelArena.bytesFor([n * d * 4, n * 8, count * 4, ...(prune ? [count * 8, n * 4] : [])]);
  return KernelArena.create(bytes);
}

/** Chunk winners combined in row order reproduce a single scan's tie-breaking: the farthest row, lowest index first. */
function chunkWinner(s: SharedState): { center: number; bestValue: number } {
  let bestValue = -1;
  let center = 0;
  for (let k = 0; k < s.chunks; k++) {
    const idx = s.chunkBest[k]!;
    if (s.minDist[idx]! > bestValue) {
      bestValue = s.minDist[idx]!;
      center = idx;
    }
  }
  return { center, bestValue };
}

/** The row with the largest distance, lowest index first: {@link chunkWinner} over one chunk. */
function farthestRow(minDist: Float64Array): { center: number; bestValue: number } {
  let bestValue = -1;
  let center = 0;
  for (let i = 0; i < minDist.length; i++) {
    if (minDist[i]! > bestValue) {
      bestValue = minDist[i]!;
      center = i;
    }
  }
  return { center, bestValue };
}

function validateCover(cover: InitialCover, n: number, initial: Int32Array): void {
  if (initial.length === 0) throw invalidInput("an initial cover needs initial picks");
  if (cover.minDist.length !== n || cover.owner.length !== n) throw invalidInput(`an initial cover needs a distance and a nearest pick for each of the ${n} rows`);
  for (let i = 0; i < n; i++) {
    const a = cover.owner[i]!;
    if (!Number.isInteger(a) || a < 0 || a >= initial.length) throw invalidInput(`row ${i}'s nearest initial pick ${a} is not an index below ${initial.length}`);
    if (!(cover.minDist[i]! >= 0)) throw invalidInput(`row ${i}'s distance ${cover.minDist[i]} to its nearest initial pick is not a non-negative number`);
  }
  initial.forEach((row, j) => {
    if (cover.minDist[row] !== 0) throw invalidInput(`initial pick ${j} (row ${row}) is at distance ${cover.minDist[row]} from its nearest initial pick, not 0`);
  });
}

function validate(features: Float32Array, n: number, c: number, count: number): void {
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`coreset needs at least one feature row, got n=${n}`);
  if (!Number.isInteger(c) || c < 1) throw invalidInput(`feature dimension c=${c} must be a positive integer`);
  if (features.length !== n * c) throw invalidInput(`features of ${features.length} values are not ${n}×${c}`);
  if (!Number.isInteger(count) || count < 0 || count > n) throw invalidInput(`coreset size ${count} must be an integer between 0 and ${n}`);
}

function validateInitial(initial: Int32Array, n: number, count: number): void {
  if (initial.length > count) throw invalidInput(`${initial.length} initial picks exceed the coreset size ${count}`);
  const seen = new Set<number>();
  for (const i of initial) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw invalidInput(`initial pick ${i} is not a row index below ${n}`);
    if (seen.has(i)) throw invalidInput(`initial pick ${i} appears twice`);
    seen.add(i);
  }
}

function copyTo(src: Float32Array, alloc: (bytes: number) => ArrayBufferLike): Float32Array {
  const out = new Float32Array(alloc(src.length * 4));
  out.set(src);
  return out;
}

function sharedCopy(src: Float32Array): Float32Array {
  return src.buffer instanceof SharedArrayBuffer ? src : copyTo(src, (b) => new SharedArrayBuffer(b));
}

/**
 * JL projection matrix, stored transposed (d×c) so each output value is a
 * dot product of two contiguous rows. Entries N(0, 1/d) keep squared
 * distances unbiased.
 */
function gaussianProjection(rng: ReturnType<typeof createRng>, c: number, d: number): Float32Array {
  return fillGaussian(rng, c, d);
}

/**
 * The projection matrix (d×c, row-major) a selection with this seed and
 * projection dimension uses for c-channel features, or undefined when it
 * runs on the features themselves (projectionDim ≥ c). Bundles from before
 * the projection was stored get theirs back from the seed this way.
 */
export function coresetProjection(seed: number, c: number, projectionDim: number): Float32Array | undefined {
  if (projectionDim >= c) return undefined;
  return gaussianProjection(createRng(seed), c, projectionDim);
}

function fillGaussian(rng: ReturnType<typeof createRng>, c: number, d: number): Float32Array {
  const out = new Float32Array(d * c);
  const scale = 1 / Math.sqrt(d);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * scale;
  return out;
}

/**
 * points[i] = projectionᵀ · features[i] for rows [lo, hi). Four rows at a
 * time so each projection row loaded from cache serves four dot products.
 * @internal shared with coreset-worker.ts
 */
export function projectRows(features: Float32Array, c: number, projection: Float32Array, d: number, points: Float32Array, lo: number, hi: number): void {
  let i = lo;
  for (; i + 4 <= hi; i += 4) {
    const a0 = i * c, a1 = a0 + c, a2 = a1 + c, a3 = a2 + c;
    for (let t = 0; t < d; t++) {
      const r = t * c;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < c; j++) {
        const p = projection[r + j]!;
        s0 += features[a0 + j]! * p;
        s1 += features[a1 + j]! * p;
        s2 += features[a2 + j]! * p;
        s3 += features[a3 + j]! * p;
      }
      points[i * d + t] = s0;
      points[(i + 1) * d + t] = s1;
      points[(i + 2) * d + t] = s2;
      points[(i + 3) * d + t] = s3;
    }
  }
  for (; i < hi; i++) {
    const a = i * c;
    for (let t = 0; t < d; t++) {
      const r = t * c;
      let s = 0;
      for (let j = 0; j < c; j++) s += features[a + j]! * projection[r + j]!;
      points[i * d + t] = s;
    }
  }
}

/**
 * minDist[i] = min(minDist[i], ‖points[i] − points[center]‖²) for rows
 * [lo, hi); returns the row of the largest minDist (lowest index on ties).
 * Differences rather than the ‖a‖²+‖b‖²−2a·b expansion: the loop is compute
 * bound either way and differences cannot cancel. Four accumulators break the
 * add dependency chain.
 * @internal shared with coreset-worker.ts
 */
export function updateMinDistances(points: Float32Array, d: number, minDist: Float64Array, center: number, lo: number, hi: number): number {
  const cv = points.slice(center * d, center * d + d);
  let best = lo;
  let bestValue = -1;
  for (let i = lo, o = lo * d; i < hi; i++, o += d) {
    const dist = sqDistAt(points, o, cv, 0, d);
    let m = minDist[i]!;
    if (dist < m) {
      m = dist;
      minDist[i] = dist;
    }
    if (m > bestValue) {
      bestValue = m;
      best = i;
    }
  }
  return best;
}

/**
 * The pruned form of {@link updateMinDistances} for pick number `pick`
 * (center = picks[pick]). Row i, whose nearest pick so far is owner[i] at
 * squared distance m, is skipped when pickDist[owner[i]] (the squared
 * distance from the center to that pick) is at least 4m: then the center is
 * at least √m away and could not lower minDist[i]. Distances are summed in
 * double precision from float32 values, so the computed ones are exact to
 * ~1e-15 relative and the 1e-6 margin keeps every skip one the full scan
 * would also have made without an update; the picks are identical.
 * Returns the row of the largest minDist (lowest index on ties) and adds the
 * number of rows it measured to scanned[slot].
 * @internal shared with coreset-worker.ts
 */
export function updateMinDistancesPruned(
  points: Float32Array, d: number, minDist: Float64Array, owner: Int32Array, pickDist: Float64Array,
  center: number, pick: number, lo: number, hi: number, scanned: Float64Array, slot: number,
): number {
  const cv = points.slice(center * d, center * d + d);
  let best = lo;
  let bestValue = -1;
  let measured = 0;
  for (let i = lo, o = lo * d; i < hi; i++, o += d) {
    let m = minDist[i]!;
    const a = owner[i]!;
    if (a < 0 || pickDist[a]! < 4 * PRUNE_MARGIN * m) {
      measured++;
      const dist = sqDistAt(points, o, cv, 0, d);
      if (dist < m) {
        m = dist;
        minDist[i] = dist;
        owner[i] = pick;
      }
    }
    if (m > bestValue) {
      bestValue = m;
      best = i;
    }
  }
  scanned[slot] = scanned[slot]! + measured;
  return best;
}

const PRUNE_MARGIN = 1 + 1e-6;

/** pickDist[j] = ‖points[picks[count]] − points[picks[j]]‖² for j in [lo, hi). */
function distancesToPicks(points: Float32Array, d: number, picks: Int32Array, pickDist: Float64Array, count: number, lo: number, hi: number): void {
  const c = picks[count]! * d;
  const cv = points.subarray(c, c + d);
  for (let j = lo; j < hi; j++) pickDist[j] = sqDistAt(points, picks[j]! * d, cv, 0, d);
}

/** Rows are split into this many chunks per task, claimed by whichever thread is free. */
const CHUNKS = 64;

/** Control words (Int32Array indices) shared with workers. */
export const CTRL_GEN = 0, CTRL_TASK = 1, CTRL_ARG = 2, CTRL_CLAIM = 3, CTRL_FINISHED = 4;
const CONTROL_WORDS = 5;
export const TASK_EXIT = 0, TASK_PROJECT = 1, TASK_UPDATE = 2, TASK_PICK_DISTANCES = 3;

/** Everything a worker needs, all on SharedArrayBuffers when workers are used. */
export interface SharedState {
  readonly control: Int32Array;
  /** Per chunk: the row with the largest minDist after the last update. */
  readonly chunkBest: Int32Array;
  /** Per chunk: row–center distances computed so far. */
  readonly chunkScanned: Float64Array;
  readonly chunks: number;
  /** Row of each pick, in pick order. */
  readonly picks: Int32Array;
  /** Pruning only: squared distance from the newest pick to each earlier one. */
  readonly pickDist: Float64Array | undefined;
  /** Pruning only: per row, the pick number of its nearest pick (-1 before the first). */
  readonly owner: Int32Array | undefined;
  readonly features: Float32Array;
  readonly points: Float32Array;
  readonly minDist: Float64Array;
  readonly projection: Float32Array | undefined;
  readonly n: number;
  readonly c: number;
  readonly d: number;
  /** When the WebAssembly loops run: the module, and the memory that points, minDist, owner, picks and pickDist are views of. */
  readonly kernel: { readonly module: WebAssembly.Module; readonly memory: WebAssembly.Memory } | undefined;
}

/** This thread's instance of the selection's kernel, if it has one. */
export function threadKernel(s: SharedState): DistanceKernel | undefined {
  return s.kernel ? instantiateKernel(s.kernel.module, s.kernel.memory) : undefined;
}

/**
 * Claims and runs chunks of generation `gen` until none is left. The claim
 * word holds (gen mod 2^15, next chunk), so a thread that woke late for an
 * earlier generation can never claim a chunk of the current one.
 * @internal shared with coreset-worker.ts
 */
export function drainChunks(s: SharedState, gen: number, task: number, arg: number, kernel: DistanceKernel | undefined): void {
  const tag = gen & 0x7fff;
  for (;;) {
    const v = Atomics.load(s.control, CTRL_CLAIM);
    const chunk = v & 0xffff;
    if (v >>> 16 !== tag || chunk >= s.chunks) return;
    if (Atomics.compareExchange(s.control, CTRL_CLAIM, v, v + 1) !== v) continue;
    // Pick distances split the earlier picks (arg of them); the other tasks split the rows.
    const length = task === TASK_PICK_DISTANCES ? arg : s.n;
    const lo = Math.round((chunk * length) / s.chunks);
    const hi = Math.round(((chunk + 1) * length) / s.chunks);
    if (task === TASK_PROJECT) projectRows(s.features, s.c, s.projection!, s.d, s.points, lo, hi);
    else if (kernel) runKernel(kernel, s, task, arg, chunk, lo, hi);
    else if (task === TASK_PICK_DISTANCES) distancesToPicks(s.points, s.d, s.picks, s.pickDist!, arg, lo, hi);
    else if (s.owner) s.chunkBest[chunk] = updateMinDistancesPruned(s.points, s.d, s.minDist, s.owner, s.pickDist!, s.picks[arg]!, arg, lo, hi, s.chunkScanned, chunk);
    else {
      s.chunkBest[chunk] = updateMinDistances(s.points, s.d, s.minDist, s.picks[arg]!, lo, hi);
      s.chunkScanned[chunk] = s.chunkScanned[chunk]! + (hi - lo);
    }
    Atomics.add(s.control, CTRL_FINISHED, 1);
    Atomics.notify(s.control, CTRL_FINISHED);
  }
}

/** One chunk of a distance task on the WebAssembly kernel: the same work as the JavaScript branches of {@link drainChunks}. */
function runKernel(kernel: DistanceKernel, s: SharedState, task: number, arg: number, chunk: number, lo: number, hi: number): void {
  const points = s.points.byteOffset;
  if (task === TASK_PICK_DISTANCES) {
    kernel.pickDistances(points, s.d, s.picks.byteOffset, s.pickDist!.byteOffset, arg, lo, hi);
  } else if (s.owner) {
    s.chunkBest[chunk] = kernel.updatePruned(points, s.d, s.minDist.byteOffset, s.owner.byteOffset, s.pickDist!.byteOffset, s.picks[arg]!, arg, lo, hi, 4 * PRUNE_MARGIN);
    s.chunkScanned[chunk] = s.chunkScanned[chunk]! + kernel.measured();
  } else {
    s.chunkBest[chunk] = kernel.update(points, s.d, s.minDist.byteOffset, s.picks[arg]!, lo, hi);
    s.chunkScanned[chunk] = s.chunkScanned[chunk]! + (hi - lo);
  }
}

/** A worker that holds a chunk this long is presumed dead. */
const WORKER_TIMEOUT_MS = 60_000;

/**
 * This thread plus helper workers. Chunks are claimed dynamically rather than
 * split in fixed halves: on a 2-core box that also serves frames, a helper
 * that is descheduled for a while only delays the chunk it holds, and until
 * a worker has started this thread simply does all the chunks itself.
 */
class Team {
  private gen = 0;
  private readonly workers: Worker[];
  private readonly kernel: DistanceKernel | undefined;

  constructor(private readonly s: SharedState, helpers: number) {
    this.kernel = threadKernel(s);
    this.workers = Array.from({ length: helpers }, () => {
      const worker = new Worker(new URL("./coreset-worker.js", import.meta.url), { workerData: s });
      // Never keep the process alive for a helper, and a helper that fails to
      // start costs only speed: this thread claims every chunk it leaves.
      worker.unref();
      worker.on("error", () => {});
      return worker;
    });
  }

  run(task: number, arg: number): void {
    const { control } = this.s;
    this.gen++;
    control[CTRL_TASK] = task;
    control[CTRL_ARG] = arg;
    Atomics.store(control, CTRL_FINISHED, 0);
    Atomics.store(control, CTRL_CLAIM, (this.gen & 0x7fff) << 16);
    Atomics.store(control, CTRL_GEN, this.gen);
    if (this.workers.length > 0) Atomics.notify(control, CTRL_GEN);
    drainChunks(this.s, this.gen, task, arg, this.kernel);
    let f: number;
    while ((f = Atomics.load(control, CTRL_FINISHED)) < this.s.chunks) {
      if (Atomics.wait(control, CTRL_FINISHED, f, WORKER_TIMEOUT_MS) === "timed-out") {
        for (const w of this.workers) void w.terminate();
        throw new LafiteError(ErrorCode.INTERNAL, "a coreset worker stopped responding");
      }
    }
  }

  stop(): void {
    if (this.workers.length === 0) return;
    const { control } = this.s;
    control[CTRL_TASK] = TASK_EXIT;
    Atomics.store(control, CTRL_GEN, ++this.gen);
    Atomics.notify(control, CTRL_GEN);
  }
}
