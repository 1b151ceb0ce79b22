/**
 * Reads the numbers stored in an initializer, for ops whose behaviour depends
 * on a constant input (Reshape's shape, ReduceSum's axes, Slice's starts,
 * Resize's scales, Pow's exponent). Static shape inference and the gradient
 * rules both need them at graph-build time.
 */
import { DataType } from "../graph-builder.js";
import type { TensorProto } from "../../gen/onnx/onnx_pb.js";

export function constantValues(t: TensorProto): number[] {
  const raw = t.rawData;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out: number[] = [];
  switch (t.dataType) {
    case DataType.INT64:
      if (raw.length === 0) return t.int64Data.map((v) => Number(v));
      for (let i = 0; i < raw.length; i += 8) out.push(Number(view.getBigInt64(i, true)));
      return out;
    case DataType.INT32:
      if (raw.length === 0) return [...t.int32Data];
      for (let i = 0; i < raw.length; i += 4) out.push(view.getInt32(i, true));
      return out;
    case DataType.FLOAT:
      if (raw.length === 0) return [...t.floatData];
      for (let i = 0; i < raw.length; i += 4) out.push(view.getFloat32(i, true));
      return out;
    case DataType.DOUBLE:
      if (raw.length === 0) return [...t.doubleData];
      for (let i = 0; i < raw.length; i += 8) out.push(view.getFloat64(i, true));
      return out;
    default:
      throw new Error(`constant '${t.name}': element type ${DataType[t.dataType]} is not readable at build time`);
  }
}
