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
  ) {}

  static async create(bank: Float32Array, n: number, dim: number, k: number, options: ort.InferenceSession.SessionOptions = {}): Promise<OnnxKnn> {
    if (bank.length !== n * dim) throw invalidInput(`bank of ${bank.length} values is not ${n}×${dim}`);
    const session = await ort.InferenceSession.create(buildKnnGraph(bank, n, dim, k), options);
    return new OnnxKnn(session, n, dim, k);
  }

  async search(queries: Float32Array, nQuery: number): Promise<KnnResult> {
    if (queries.length !== nQuery * this.dim) throw invalidInput(`queries of ${queries.length} values are not ${nQuery}×${this.dim}`);
    const out = await this.session.run({ queries: new ort.Tensor("float32", queries, [nQuery, this.dim]) });
    return { indices: out.indices!.data as Int32Array, distances: out.distances!.data as Float32Array };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
