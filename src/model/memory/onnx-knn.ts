/**
 * Exact k-nearest-neighbour search as an ONNX graph (MatMul + TopK), the hot
 * path for per-frame queries: h×w queries against the coreset is one GEMM,
 * which ONNX Runtime runs near the machine's peak (and on CUDA on the edge
 * box), while faiss-node needs its inputs copied into plain JS arrays.
 * FAISS stays the index of record (saved in the bundle); bench:features
 * compares the two.
 */
import * as ort from "onnxruntime-node";
import { DataType, GraphBuilder } from "../../onnx/graph-builder.js";
import { invalidInput } from "../../util/errors.js";

export interface KnnResult {
  /** Row indices into the bank, nQuery×k, nearest first. */
  readonly indices: Int32Array;
  /** Squared L2 distances, nQuery×k, ascending. */
  readonly distances: Float32Array;
}

/**
 * Graph: d²(q, m) = ‖m‖² − 2 q·m + ‖q‖², TopK smallest, clamped at 0 against
 * rounding. K is an input ("k", int64 [1]), so one session serves every
 * search depth: TopK's cost grows with K (784 queries against 5,770 rows: 5 ms
 * at K 3, 47 ms at K 259), and a search leaving rows out needs only K + their
 * number.
 */
export function buildKnnGraph(bank: Float32Array, n: number, dim: number): Uint8Array {
  const g = new GraphBuilder("knn");
  const q = g.input("queries", DataType.FLOAT, ["q", dim]);
  const kIn = g.input("k", DataType.INT64, [1]);
  const bankT = new Float32Array(dim * n);
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = bank[i * dim + j]!;
      bankT[j * n + i] = v;
      s += v * v;
    }
    norms[i] = s;
  }
  const mT = g.initializer("bank_t", bankT, [dim, n]);
  const mNorm = g.initializer("bank_norm", norms, [1, n]);
  const [dot] = g.op("MatMul", [q, mT]);
  const [scaled] = g.op("Mul", [dot!, g.scalar(-2)]);
  const [partial] = g.op("Add", [scaled!, mNorm]);
  const [values, indices] = g.op("TopK", [partial!, kIn], { axis: 1, largest: 0, sorted: 1 }, undefined, 2);
  const [q2] = g.op("Mul", [q, q]);
  const [qNorm] = g.op("ReduceSum", [q2!, g.int64s([1])], { keepdims: 1 });
  const [full] = g.op("Add", [values!, qNorm!]);
  const [clamped] = g.op("Relu", [full!]);
  const [idx32] = g.op("Cast", [indices!], { to: DataType.INT32 });
  g.output(clamped!, DataType.FLOAT, ["q", "k"], "distances");
  g.output(idx32!, DataType.INT32, ["q", "k"], "indices");
  return g.toBytes();
}

export class OnnxKnn {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly size: number,
    readonly dim: number,
    readonly k: number,
  ) {}

  static async create(bank: Float32Array, n: number, dim: number, k: number, options: ort.InferenceSession.SessionOptions = {}): Promise<OnnxKnn> {
    if (bank.length !== n * dim) throw invalidInput(`bank of ${bank.length} values is not ${n}×${dim}`);
    if (!Number.isInteger(k) || k < 1 || k > n) throw invalidInput(`k=${k} must be between 1 and the bank size ${n}`);
    const session = await ort.InferenceSession.create(buildKnnGraph(bank, n, dim), options);
    return new OnnxKnn(session, n, dim, k);
  }

  /**
   * The k nearest rows of each query, nearest first; with `exclude`, of the rows not in it: the k + |exclude| nearest
   * hold k others, so the search goes that deep and no deeper.
   */
  async search(queries: Float32Array, nQuery: number, exclude?: ReadonlySet<number>): Promise<KnnResult> {
    if (!exclude?.size) return this.searchTop(queries, nQuery, this.k);
    const depth = Math.min(this.size, this.k + exclude.size);
    return withoutRows(await this.searchTop(queries, nQuery, depth), depth, this.k, exclude);
  }

  /**
   * The rows that are copies of the queries (squared distance at most
   * COPY_DISTANCE_PER_CHANNEL per channel): a training image's own coreset
   * rows are copies of its feature slices, so these are what leaving the
   * image out of the bank removes. A query's copies are its nearest rows, so
   * the search deepens (×4 from COPY_SEARCH_DEPTH) until every query's
   * deepest neighbour is no copy, or the bank is exhausted.
   */
  async copiesOf(queries: Float32Array, nQuery: number): Promise<Set<number>> {
    for (let depth = Math.min(this.size, COPY_SEARCH_DEPTH); ; depth = Math.min(this.size, depth * 4)) {
      const raw = await this.searchTop(queries, nQuery, depth);
      const within = COPY_DISTANCE_PER_CHANNEL * this.dim;
      let deeper = false;
      for (let q = 0; q < nQuery && !deeper; q++) deeper = raw.distances[q * depth + depth - 1]! <= within;
      if (deeper && depth < this.size) continue;
      const out = new Set<number>();
      for (let i = 0; i < raw.distances.length; i++) if (raw.distances[i]! <= within) out.add(raw.indices[i]!);
      return out;
    }
  }

  private async searchTop(queries: Float32Array, nQuery: number, depth: number): Promise<KnnResult> {
    if (queries.length !== nQuery * this.dim) throw invalidInput(`queries of ${queries.length} values are not ${nQuery}×${this.dim}`);
    const out = await this.session.run({ queries: new ort.Tensor("float32", queries, [nQuery, this.dim]), k: new ort.Tensor("int64", BigInt64Array.of(BigInt(depth)), [1]) });
    return { indices: out.indices!.data as Int32Array, distances: out.distances!.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** How deep copiesOf searches first: a slice has one copy in the bank, a few where frames repeat it exactly (a flat background). */
export const COPY_SEARCH_DEPTH = 8;

/**
 * Squared distance per channel under which a bank row is a copy of a query
 * slice. A row copied from a slice and the slice recomputed (another batch,
 * another process) differ by float rounding of ‖m‖² − 2q·m + ‖q‖², which
 * grows with the channels (each standardized to variance 1): on the realistic
 * suite's 120 channels at most 3e-4 (2.5e-6 a channel), while the nearest
 * other row was never closer than 0.07 (6e-4 a channel).
 */
export const COPY_DISTANCE_PER_CHANNEL = 1e-4;

/**
 * The first `k` of each query's `kIn` neighbours that are not in `exclude`,
 * in order. Throws when a query has fewer than k others among them (the
 * bank has fewer than k rows outside `exclude`). Pure.
 */
export function withoutRows(raw: KnnResult, kIn: number, k: number, exclude: ReadonlySet<number>): KnnResult {
  const nQuery = raw.indices.length / kIn;
  const indices = new Int32Array(nQuery * k);
  const distances = new Float32Array(nQuery * k);
  for (let q = 0; q < nQuery; q++) {
    let j = 0;
    for (let t = 0; t < kIn && j < k; t++) {
      const row = raw.indices[q * kIn + t]!;
      if (exclude.has(row)) continue;
      indices[q * k + j] = row;
      distances[q * k + j] = raw.distances[q * kIn + t]!;
      j++;
    }
    if (j < k) throw new Error(`leaving ${exclude.size} rows out left query ${q} ${j} of its ${k} neighbours among the ${kIn} searched`);
  }
  return { indices, distances };
}
