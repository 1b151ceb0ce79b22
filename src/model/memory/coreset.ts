/**
 * Memory-bank subsampling (paper 3.3, PatchCore's coreset): greedy k-center
 * selection over a Johnson–Lindenstrauss random projection of the features.
 * Each pick is the point farthest from everything picked so far, so the
 * coreset covers the feature space (its covering radius is within a factor 2
 * of optimal) while keeping only a few percent of the slices.
 *
 * Cost is count × n × d multiply-adds (d = projection dim), e.g. 15 000 picks
 * over 150 000 slices is ~3·10¹¹, so the distance update is one tight loop
 * over a contiguous row-major matrix, and on multi-core machines the rows are
 * split between this thread and worker threads sharing memory
 * (coreset-worker.ts). Workers are driven synchronously through Atomics so
 * the selection stays a plain function call.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { ErrorCode, LafiteError, invalidInput } from "../../util/errors.js";
import { throwIfCancelled } from "../../util/progress.js";
import { createRng } from "../../util/random.js";

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
}

/** Below this many projected values (n·d) a worker's start-up outweighs its help. */
const MIN_PARALLEL_VALUES = 1 << 20;

/**
 * Greedy k-center coreset: returns `count` row indices of `features` (n×c,
 * row-major) in the order they were picked. The first pick is drawn from the
 * seed; each later pick is the row with the largest distance to its nearest
 * picked row (ties: lowest index).
 */
export function greedyCoreset(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions = {}): Int32Array {
  const steps = coresetSteps(features, n, c, count, options);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * The same selection, yielding to the event loop every ~50 ms so that an
 * AbortSignal fed by SIGINT (interruptSignal) can actually fire during a
 * minutes-long selection.
 */
export async function greedyCoresetAsync(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions = {}): Promise<Int32Array> {
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
    steps.return(new Int32Array(0));
  }
}

/** One pick per resumption; the finally block stops workers however the caller leaves. */
function* coresetSteps(features: Float32Array, n: number, c: number, count: number, options: CoresetOptions): Generator<void, Int32Array, void> {
  validate(features, n, c, count);
  const selected = new Int32Array(count);
  if (count === 0) return selected;
  const rng = createRng(options.seed ?? 0);
  const dRequested = options.projectionDim ?? 128;
  if (!Number.isInteger(dRequested) || dRequested < 1) throw invalidInput(`projection dimension ${dRequested} must be a positive integer`);
  const project = dRequested < c;
  const d = project ? dRequested : c;
  const threads = Math.max(1, Math.min(options.threads ?? Math.min(2, availableParallelism()), n));
  const parallel = threads > 1 && (options.threads !== undefined || n * d >= MIN_PARALLEL_VALUES);

  const what = "coreset selection";
  throwIfCancelled(options.signal, what);
  // Workers can only see memory backed by a SharedArrayBuffer.
  const alloc = (bytes: number) => (parallel ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const projection = project ? gaussianProjection(rng, c, d) : undefined;
  const points = project ? new Float32Array(alloc(n * d * 4)) : parallel && !(features.buffer instanceof SharedArrayBuffer) ? copyTo(features, alloc) : features;
  const minDist = new Float64Array(alloc(n * 8)).fill(Infinity);

  const pool = parallel ? WorkerPool.start(threads - 1, { features: project ? sharedCopy(features) : points, points, minDist, projection, n, c, d }) : undefined;
  try {
    // Rows split contiguously, this thread taking the first range, so that
    // combining in order reproduces the single-thread tie-breaking.
    const bounds = Array.from({ length: (pool?.size ?? 0) + 2 }, (_, t) => Math.round((t * n) / ((pool?.size ?? 0) + 1)));
    if (projection) {
      if (pool) pool.run(TASK_PROJECT, 0, bounds);
      projectRows(features, c, projection, d, points, 0, bounds[1]!);
      pool?.wait();
    }
    let center = Math.min(n - 1, Math.floor(rng.next() * n));
    for (let s = 0; s < count; s++) {
      throwIfCancelled(options.signal, what);
      selected[s] = center;
      if (pool) pool.run(TASK_UPDATE, center, bounds);
      const best = updateMinDistances(points, d, minDist, center, 0, bounds[1]!);
      let bestIndex = best;
      let bestValue = minDist[best]!;
      if (pool) {
        pool.wait();
        for (let w = 0; w < pool.size; w++) {
          if (bounds[w + 2]! <= bounds[w + 1]!) continue;
          const idx = pool.bestIndex(w);
          if (minDist[idx]! > bestValue) {
            bestValue = minDist[idx]!;
            bestIndex = idx;
          }
        }
      }
      center = bestIndex;
      options.onProgress?.(s + 1, count);
      yield;
    }
    return selected;
  } finally {
    pool?.stop();
  }
}

function validate(features: Float32Array, n: number, c: number, count: number): void {
  if (!Number.isInteger(n) || n < 1) throw invalidInput(`coreset needs at least one feature row, got n=${n}`);
  if (!Number.isInteger(c) || c < 1) throw invalidInput(`feature dimension c=${c} must be a positive integer`);
  if (features.length !== n * c) throw invalidInput(`features of ${features.length} values are not ${n}×${c}`);
  if (!Number.isInteger(count) || count < 0 || count > n) throw invalidInput(`coreset size ${count} must be an integer between 0 and ${n}`);
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
  const d4 = d - (d % 4);
  let best = lo;
  let bestValue = -1;
  for (let i = lo, o = lo * d; i < hi; i++, o += d) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let t = 0;
    for (; t < d4; t += 4) {
      const e0 = points[o + t]! - cv[t]!;
      const e1 = points[o + t + 1]! - cv[t + 1]!;
      const e2 = points[o + t + 2]! - cv[t + 2]!;
      const e3 = points[o + t + 3]! - cv[t + 3]!;
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    for (; t < d; t++) {
      const e = points[o + t]! - cv[t]!;
      s0 += e * e;
    }
    const dist = s0 + s1 + (s2 + s3);
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

/** Control words shared with workers (Int32Array indices). */
export const CTRL_GEN = 0, CTRL_TASK = 1, CTRL_ARG = 2, CTRL_DONE = 3;
export const TASK_EXIT = 0, TASK_PROJECT = 1, TASK_UPDATE = 2;

export interface WorkerInit {
  readonly id: number;
  readonly control: Int32Array;
  /** Per worker: [lo, hi, best] of its last task. */
  readonly slots: Int32Array;
  readonly features: Float32Array;
  readonly points: Float32Array;
  readonly minDist: Float64Array;
  readonly projection: Float32Array | undefined;
  readonly n: number;
  readonly c: number;
  readonly d: number;
}

/** A worker that has not answered in this long is presumed dead. */
const WORKER_TIMEOUT_MS = 60_000;

class WorkerPool {
  private gen = 0;
  private constructor(
    private readonly workers: Worker[],
    private readonly control: Int32Array,
    private readonly slots: Int32Array,
  ) {}

  get size(): number {
    return this.workers.length;
  }

  static start(count: number, data: Omit<WorkerInit, "id" | "control" | "slots">): WorkerPool {
    const control = new Int32Array(new SharedArrayBuffer((CTRL_DONE + count) * 4));
    const slots = new Int32Array(new SharedArrayBuffer(count * 3 * 4));
    for (let w = 0; w < count; w++) control[CTRL_DONE + w] = -1;
    const workers = Array.from({ length: count }, (_, id) => {
      const init: WorkerInit = { ...data, id, control, slots };
      const worker = new Worker(new URL("./coreset-worker.js", import.meta.url), { workerData: init });
      // Never keep the process alive for a helper thread.
      worker.unref();
      return worker;
    });
    const pool = new WorkerPool(workers, control, slots);
    pool.wait();
    return pool;
  }

  /** Hands rows [bounds[w+1], bounds[w+2]) to worker w and wakes all workers. */
  run(task: number, arg: number, bounds: readonly number[]): void {
    for (let w = 0; w < this.workers.length; w++) {
      this.slots[w * 3] = bounds[w + 1]!;
      this.slots[w * 3 + 1] = bounds[w + 2]!;
    }
    this.control[CTRL_TASK] = task;
    this.control[CTRL_ARG] = arg;
    Atomics.store(this.control, CTRL_GEN, ++this.gen);
    Atomics.notify(this.control, CTRL_GEN);
  }

  /** Blocks until every worker has finished the current generation. */
  wait(): void {
    for (let w = 0; w < this.workers.length; w++) {
      const at = CTRL_DONE + w;
      let v: number;
      while ((v = Atomics.load(this.control, at)) !== this.gen) {
        if (Atomics.wait(this.control, at, v, WORKER_TIMEOUT_MS) === "timed-out") {
          this.kill();
          throw new LafiteError(ErrorCode.INTERNAL, `coreset worker ${w} stopped responding`);
        }
      }
    }
  }

  bestIndex(w: number): number {
    return this.slots[w * 3 + 2]!;
  }

  stop(): void {
    this.control[CTRL_TASK] = TASK_EXIT;
    Atomics.store(this.control, CTRL_GEN, ++this.gen);
    Atomics.notify(this.control, CTRL_GEN);
  }

  private kill(): void {
    for (const w of this.workers) void w.terminate();
  }
}
