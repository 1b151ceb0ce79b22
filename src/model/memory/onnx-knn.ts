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

/** Graph: d²(q, m) = ‖m‖² − 2 q·m + ‖q‖², TopK smallest, clamped at 0 against rounding. */
export function buildKnnGraph(bank: Float32Array, n: number, dim: number, k: number): Uint8Array {
  if (k < 1 || k > n) throw invalidInput(`k=${k} must be between 1 and the bank size ${n}`);
  const g = new GraphBuilder("knn");
  const q = g.input("queries", DataType.FLOAT, ["q", dim]);
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
  const [values, indices] = g.op("TopK", [partial!, g.int64s([k])], { axis: 1, largest: 0, sorted: 1 }, undefined, 2);
  const [q2] = g.op("Mul", [q, q]);
  const [qNorm] = g.op("ReduceSum", [q2!, g.int64s([1])], { keepdims: 1 });
  const [full] = g.op("Add", [values!, qNorm!]);
  const [clamped] = g.op("Relu", [full!]);
  const [idx32] = g.op("Cast", [indices!], { to: DataType.INT32 });
  g.output(clamped!, DataType.FLOAT, ["q", k], "distances");
  g.output(idx32!, DataType.INT32, ["q", k], "indices");
  return g.toBytes();
}

export class OnnxKnn {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly size: number,
    readonly dim: number,
    readonly k: number,
    /** Extra neighbours the graph returns beyond k, so that k remain when rows are left out (search's `exclude`). */
    readonly spare: number,
  ) {}

  /** `spare`: neighbours searched beyond k, so searches can leave rows out (calibration only: a larger TopK costs every query). */
  static async create(bank: Float32Array, n: number, dim: number, k: number, options: ort.InferenceSession.SessionOptions = {}, spare = 0): Promise<OnnxKnn> {
    if (bank.length !== n * dim) throw invalidInput(`bank of ${bank.length} values is not ${n}×${dim}`);
    const extra = Math.max(0, Math.min(spare, n - k));
    const session = await ort.InferenceSession.create(buildKnnGraph(bank, n, dim, k + extra), options);
    return new OnnxKnn(session, n, dim, k, extra);
  }

  /** The k nearest rows of each query, nearest first; with `exclude`, of the rows not in it (the knn needs spare neighbours for that). */
  async search(queries: Float32Array, nQuery: number, exclude?: ReadonlySet<number>): Promise<KnnResult> {
    const raw = await this.searchAll(queries, nQuery);
    if (this.spare === 0 && !exclude?.size) return raw;
    if (exclude?.size && this.spare === 0) throw new Error("leaving bank rows out of a search needs a knn created with spare neighbours");
    return withoutRows(raw, this.k + this.spare, this.k, exclude ?? new Set());
  }

  /**
   * The rows that are copies of the queries (squared distance at most
   * COPY_DISTANCE_PER_CHANNEL per channel): a training image's own coreset
   * rows are copies of its feature slices, so these are what leaving the
   * image out of the bank removes.
   */
  async copiesOf(queries: Float32Array, nQuery: number): Promise<Set<number>> {
    const raw = await this.searchAll(queries, nQuery);
    const kk = this.k + this.spare;
    const within = COPY_DISTANCE_PER_CHANNEL * this.dim;
    const out = new Set<number>();
    for (let i = 0; i < raw.distances.length; i++) if (raw.distances[i]! <= within) out.add(raw.indices[i]!);
    // Every returned neighbour a copy: more copies may lie beyond the spare ones, and a search leaving these out would not find k others.
    for (let q = 0; q < nQuery; q++) if (raw.distances[q * kk + kk - 1]! <= within) throw new Error(`more than ${kk} bank rows copy one query slice`);
    return out;
  }

  private async searchAll(queries: Float32Array, nQuery: number): Promise<KnnResult> {
    if (queries.length !== nQuery * this.dim) throw invalidInput(`queries of ${queries.length} values are not ${nQuery}×${this.dim}`);
    const out = await this.session.run({ queries: new ort.Tensor("float32", queries, [nQuery, this.dim]) });
    return { indices: out.indices!.data as Int32Array, distances: out.distances!.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

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
 * search needs more spare neighbours). Pure.
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
