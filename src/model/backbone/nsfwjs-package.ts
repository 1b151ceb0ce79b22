/**
 * Reads the Keras/TF.js layers models that the npm package nsfwjs ships
 * (dist/models/<arch>/): model.min.js holds the topology and weights
 * manifest, each group1-shardNofM.min.js a base64 string of raw weight bytes.
 * The package's `exports` field blocks deep imports, so files are resolved
 * from the package folder by path and loaded as the CommonJS modules they are.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LafiteError, ErrorCode } from "../../util/errors.js";

const require = createRequire(import.meta.url);

export type BuiltinArch = "mobilenet_v2" | "inception_v3";

export interface KerasLayer {
  readonly name: string;
  readonly class_name: string;
  readonly config: Record<string, unknown>;
  /** [[ [inboundLayerName, nodeIndex, tensorIndex, kwargs], ... ]] */
  readonly inbound_nodes: readonly (readonly (readonly [string, number, number, unknown])[])[];
}

interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly min?: number; readonly scale?: number; readonly dtype: string };
}

export interface KerasModel {
  readonly arch: BuiltinArch;
  readonly layers: readonly KerasLayer[];
  readonly weights: ReadonlyMap<string, { readonly shape: readonly number[]; readonly values: Float32Array }>;
  /** The raw pieces, for an independent reference run (TensorFlow.js). */
  readonly topology: unknown;
  readonly weightSpecs: readonly WeightSpec[];
  readonly weightBytes: Uint8Array;
}

function packageDir(): string {
  try {
    return dirname(require.resolve("nsfwjs/package.json"));
  } catch {
    // package.json may itself be hidden by `exports`; fall back to the main entry's folder.
    return join(dirname(require.resolve("nsfwjs")), "..", "..");
  }
}

const cache = new Map<BuiltinArch, KerasModel>();

export function readKerasModel(arch: BuiltinArch): KerasModel {
  const hit = cache.get(arch);
  if (hit) return hit;
  const dir = join(packageDir(), "dist", "models", arch);
  let model: { modelTopology: { model_config: { config: { layers: KerasLayer[] } } }; weightsManifest: { paths: string[]; weights: WeightSpec[] }[] };
  try {
    model = require(join(dir, "model.min.js"));
  } catch (err) {
    throw new LafiteError(ErrorCode.INTERNAL, `cannot read the ${arch} model shipped by nsfwjs in ${dir}: ${(err as Error).message}`);
  }
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const shards = model.weightsManifest.flatMap((g) => g.paths).map((p) => {
    const b64 = require(join(dir, `${p}.min.js`)) as unknown;
    if (typeof b64 !== "string") throw new LafiteError(ErrorCode.INTERNAL, `nsfwjs shard ${p} is not a base64 string`);
    return Buffer.from(b64, "base64");
  });
  const bytes = new Uint8Array(Buffer.concat(shards));
  const weights = new Map<string, { shape: readonly number[]; values: Float32Array }>();
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    const q = spec.quantization;
    if (q) {
      if (q.dtype !== "uint8" || q.min === undefined || q.scale === undefined) throw new LafiteError(ErrorCode.INTERNAL, `weight ${spec.name}: unsupported quantization ${JSON.stringify(q)}`);
      for (let i = 0; i < count; i++) values[i] = q.min + q.scale * bytes[offset + i]!;
      offset += count;
    } else {
      if (spec.dtype !== "float32") throw new LafiteError(ErrorCode.INTERNAL, `weight ${spec.name}: unsupported dtype ${spec.dtype}`);
      values.set(new Float32Array(bytes.slice(offset, offset + 4 * count).buffer));
      offset += 4 * count;
    }
    weights.set(spec.name, { shape: spec.shape, values });
  }
  if (offset !== bytes.length) throw new LafiteError(ErrorCode.INTERNAL, `nsfwjs ${arch}: weights manifest covers ${offset} bytes, shards hold ${bytes.length}`);
  const result: KerasModel = { arch, layers: model.modelTopology.model_config.config.layers, weights, topology: model.modelTopology, weightSpecs: specs, weightBytes: bytes };
  cache.set(arch, result);
  return result;
}
