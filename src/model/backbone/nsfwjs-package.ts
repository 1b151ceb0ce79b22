/**
 * Reads the Keras/TF.js layers models that the npm package nsfwjs ships
 * (dist/models/<arch>/): model.min.js holds the topology and weights
 * manifest, each group1-shardNofM.min.js a base64 string of raw weight bytes.
 * The package's `exports` field blocks deep imports, so files are resolved
 * from the package folder by path. They are read as data: the literal each
 * module exports is parsed (js-literal.ts), the package's code is never run.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { moduleExportsLiteral } from "./js-literal.js";

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
  /** nsfwjs's package version, part of the cache key of generated graphs. */
  readonly packageVersion: string;
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

const broken = (what: string, err?: unknown) =>
  new LafiteError(ErrorCode.INTERNAL, `cannot read ${what} shipped by nsfwjs: ${err instanceof Error ? err.message : "unexpected content"}`, err ? { cause: err } : undefined);

/** The literal a package module exports, read as text and parsed (never executed). */
function readModuleLiteral(path: string): unknown {
  try {
    return moduleExportsLiteral(readFileSync(path, "utf8"));
  } catch (err) {
    throw broken(path, err);
  }
}

interface ModelFile {
  modelTopology: { model_config: { config: { layers: KerasLayer[] } } };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
}

function isModelFile(v: unknown): v is ModelFile {
  const m = v as Partial<ModelFile> | null;
  return typeof m === "object" && m !== null && Array.isArray(m.modelTopology?.model_config?.config?.layers) && Array.isArray(m.weightsManifest);
}

export function readKerasModel(arch: BuiltinArch): KerasModel {
  const hit = cache.get(arch);
  if (hit) return hit;
  const pkg = packageDir();
  const dir = join(pkg, "dist", "models", arch);
  const modelPath = join(dir, "model.min.js");
  const model = readModuleLiteral(modelPath);
  if (!isModelFile(model)) throw broken(modelPath);
  const specs = model.weightsManifest.flatMap((g) => g.weights);
  const shards = model.weightsManifest.flatMap((g) => g.paths).map((p) => {
    const shardPath = join(dir, `${p}.min.js`);
    const b64 = readModuleLiteral(shardPath);
    if (typeof b64 !== "string") throw broken(`${shardPath} (not a base64 string)`);
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
  const packageVersion = String((JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version?: unknown }).version ?? "unknown");
  const result: KerasModel = { arch, packageVersion, layers: model.modelTopology.model_config.config.layers, weights, topology: model.modelTopology, weightSpecs: specs, weightBytes: bytes };
  cache.set(arch, result);
  return result;
}
