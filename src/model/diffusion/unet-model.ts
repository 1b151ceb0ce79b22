/**
 * Reads back an exported U-Net ONNX file (export.ts): its config, feature
 * shape and weights, so inference can rebuild variants of the graph (e.g. all
 * DDIM steps unrolled) from the one stored model.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, TensorProto_DataType } from "../../gen/onnx/onnx_pb.js";
import type { UNetConfig } from "./config.js";
import { unetParamSpecs, type FeatureShape } from "./unet.js";

export interface UNetModel {
  readonly cfg: UNetConfig;
  readonly shape: FeatureShape;
  readonly weights: Map<string, Float32Array>;
}

export function readUNetModel(bytes: Uint8Array): UNetModel {
  const model = fromBinary(ModelProtoSchema, bytes);
  const meta = new Map(model.metadataProps.map((p) => [p.key, p.value]));
  const cfgText = meta.get("lafite.unet");
  const shapeText = meta.get("lafite.shape");
  if (!cfgText || !shapeText) throw new Error("U-Net model: missing lafite.unet / lafite.shape metadata (not written by export.ts)");
  const cfg = JSON.parse(cfgText) as UNetConfig;
  const shape = JSON.parse(shapeText) as FeatureShape;
  const wanted = new Set(unetParamSpecs(cfg, shape).params.map((p) => p.name));
  const weights = new Map<string, Float32Array>();
  for (const t of model.graph?.initializer ?? []) {
    if (!wanted.has(t.name)) continue;
    if (t.dataType !== TensorProto_DataType.FLOAT) throw new Error(`U-Net model: weight '${t.name}' is not float32`);
    const raw = t.rawData;
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    weights.set(t.name, new Float32Array(copy.buffer));
  }
  for (const name of wanted) if (!weights.has(name)) throw new Error(`U-Net model: weight '${name}' is missing`);
  return { cfg, shape, weights };
}
