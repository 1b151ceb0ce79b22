/**
 * The coreset's index of record, in FAISS (faiss-node), saved with the bundle.
 * faiss-node aborts the whole process on a C++ exception, so every argument is
 * validated here before it reaches FAISS; and it accepts only plain JS arrays,
 * so conversions happen once, here.
 */
import { createRequire } from "node:module";
import { LafiteError, ErrorCode, invalidInput } from "../../util/errors.js";
import type { KnnResult } from "./onnx-knn.js";

// faiss-node is CommonJS with its own typings; load it through require so ESM interop cannot differ between builds.
const require = createRequire(import.meta.url);
const faiss = require("faiss-node") as typeof import("faiss-node");

/** "flat" is exact L2; "hnsw" is approximate (HNSW32) for large banks. */
export type IndexType = "flat" | "hnsw";

const FACTORY: Record<IndexType, string> = { flat: "Flat", hnsw: "HNSW32,Flat" };

function checkFinite(values: Float32Array, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw invalidInput(`${what} contains a non-finite value at position ${i}`);
  }
}

export class FaissIndex {
  private constructor(
    private readonly index: import("faiss-node").Index,
    readonly dim: number,
    readonly type: IndexType,
  ) {}

  static build(vectors: Float32Array, n: number, dim: number, type: IndexType = "flat"): FaissIndex {
    if (!Number.isInteger(dim) || dim <= 0) throw invalidInput(`index dimension must be a positive integer, got ${dim}`);
    if (!Number.isInteger(n) || n <= 0) throw invalidInput(`an index needs at least one vector, got ${n}`);
    if (vectors.length !== n * dim) throw invalidInput(`${vectors.length} values are not ${n} vectors of dimension ${dim}`);
    if (!(type in FACTORY)) throw invalidInput(`unknown index type '${type}' (expected ${Object.keys(FACTORY).join(" or ")})`);
    checkFinite(vectors, "index vectors");
    const index = type === "flat" ? new faiss.IndexFlatL2(dim) : faiss.Index.fromFactory(dim, FACTORY[type], faiss.MetricType.METRIC_L2);
    index.add(Array.from(vectors));
    return new FaissIndex(index, dim, type);
  }

  get size(): number {
    return this.index.ntotal();
  }

  search(queries: Float32Array, nQuery: number, k: number): KnnResult {
    if (!Number.isInteger(k) || k < 1 || k > this.size) throw invalidInput(`k=${k} must be an integer between 1 and the index size ${this.size}`);
    if (!Number.isInteger(nQuery) || nQuery < 1 || queries.length !== nQuery * this.dim) {
      throw invalidInput(`queries of ${queries.length} values are not ${nQuery} vectors of dimension ${this.dim}`);
    }
    checkFinite(queries, "queries");
    const { labels, distances } = this.index.search(Array.from(queries), k);
    return { indices: Int32Array.from(labels), distances: Float32Array.from(distances) };
  }

  toBuffer(): Buffer {
    return this.index.toBuffer();
  }

  static fromBuffer(buf: Buffer, expectedDim: number, type: IndexType): FaissIndex {
    if (buf.length < 16) throw new LafiteError(ErrorCode.BAD_BUNDLE, `FAISS index is truncated (${buf.length} bytes)`);
    // FAISS index files start with a 4-byte fourcc ("IxF2" flat L2, "IHNf" HNSW flat); a wrong one would abort in C++.
    const fourcc = buf.subarray(0, 4).toString("latin1");
    if (!/^I[A-Za-z0-9]{3}$/.test(fourcc)) throw new LafiteError(ErrorCode.BAD_BUNDLE, `not a FAISS index file (header '${fourcc}')`);
    let index: import("faiss-node").Index;
    try {
      index = faiss.Index.fromBuffer(buf);
    } catch (err) {
      throw new LafiteError(ErrorCode.BAD_BUNDLE, `cannot read FAISS index: ${(err as Error).message}`, { cause: err });
    }
    if (index.getDimension() !== expectedDim) {
      throw new LafiteError(ErrorCode.BAD_BUNDLE, `FAISS index has dimension ${index.getDimension()}, the manifest says ${expectedDim}`);
    }
    return new FaissIndex(index, expectedDim, type);
  }
}
