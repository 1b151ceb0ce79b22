import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType as AttrType,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType as DataType,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "../gen/onnx/onnx_pb.js";

export { DataType };

/** ONNX IR version 8 pairs with opset 17/18; ORT 1.30 reads both. */
export const IR_VERSION = 8;
export const OPSET = 17;

/** A named tensor in the graph under construction. */
export interface Value {
  readonly name: string;
}

/** Dimension: a fixed size, or a symbolic name (e.g. "batch"). */
export type Dim = number | string;

export type AttrValue = number | string | number[] | string[] | Float32Array | { float: number } | TensorProto;

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** The node record kept by the builder, which later passes (autodiff) can walk. */
export interface NodeRecord {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
}

/** A declared graph input or output: name, element type and shape as given. */
export interface IoRecord {
  readonly name: string;
  readonly type: DataType;
  readonly shape: readonly Dim[];
}

/**
 * Builds an ONNX model node by node. Names are made unique by the builder so
 * callers never have to invent them; inputs, outputs and initializers keep the
 * names the caller gives, since those are the model's interface.
 */
export class GraphBuilder {
  readonly nodes: NodeRecord[] = [];
  readonly initializers = new Map<string, TensorProto>();
  /** The declared inputs and outputs, in order (read by passes such as autodiff). */
  readonly inputRecords: IoRecord[] = [];
  readonly outputRecords: IoRecord[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh unique tensor name with a readable prefix. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph '${this.name}': tensor name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  input(name: string, type: DataType, shape: readonly Dim[]): Value {
    this.inputRecords.push({ name: this.claim(name), type, shape: [...shape] });
    return { name };
  }

  output(value: Value, type: DataType, shape: readonly Dim[], name?: string): Value {
    let out = value;
    if (name !== undefined && name !== value.name) out = this.op("Identity", [value], {}, name)[0]!;
    this.outputRecords.push({ name: out.name, type, shape: [...shape] });
    return out;
  }

  /** Whether a tensor name is taken (input, initializer, node output or generated name). */
  has(name: string): boolean {
    return this.used.has(name);
  }

  /**
   * A copy with the same inputs, initializers and nodes, to which more nodes
   * can be appended without touching this builder. Outputs are copied only
   * when `withOutputs` is set. Tensor data is shared, not copied.
   */
  clone(name = this.name, withOutputs = false): GraphBuilder {
    const c = new GraphBuilder(name);
    c.nodes.push(...this.nodes);
    for (const [k, t] of this.initializers) c.initializers.set(k, t);
    c.inputRecords.push(...this.inputRecords);
    if (withOutputs) c.outputRecords.push(...this.outputRecords);
    for (const u of this.used) c.used.add(u);
    c.counter = this.counter;
    return c;
  }

  /** A weight or constant stored in the model file. */
  initializer(name: string, data: TensorData, dims: readonly number[]): Value {
    return this.store(this.claim(name), data, dims);
  }

  private store(name: string, data: TensorData, dims: readonly number[]): Value {
    this.initializers.set(name, tensorProto(name, data, dims));
    return { name };
  }

  /** An initializer with a generated name (small constants such as shapes or axes). */
  constant(data: TensorData, dims: readonly number[], prefix = "const"): Value {
    return this.store(this.fresh(prefix), data, dims);
  }

  /** Int64 1-D constant, the form ONNX wants for shapes, axes, pads and sizes. */
  int64s(values: readonly number[]): Value {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))), [values.length], "i64");
  }

  scalar(value: number): Value {
    return this.constant(Float32Array.of(value), [], "scalar");
  }

  /**
   * Appends one node. Empty-string inputs stand for omitted optional inputs.
   * `outputName` names the first output explicitly (otherwise generated).
   */
  op(opType: string, inputs: readonly (Value | "")[], attrs: Record<string, AttrValue> = {}, outputName?: string, numOutputs = 1): Value[] {
    const outs: string[] = [];
    for (let k = 0; k < numOutputs; k++) {
      outs.push(k === 0 && outputName !== undefined ? this.claim(outputName) : this.fresh(opType.toLowerCase()));
    }
    this.nodes.push({ opType, inputs: inputs.map((v) => (v === "" ? "" : v.name)), outputs: outs, attrs });
    return outs.map((name) => ({ name }));
  }

  /** Serializes to ONNX protobuf bytes. */
  toBytes(meta: Record<string, string> = {}): Uint8Array {
    const graph = create(GraphProtoSchema, {
      name: this.name,
      node: this.nodes.map(nodeProto),
      initializer: [...this.initializers.values()],
      input: this.inputRecords.map((r) => valueInfo(r.name, r.type, r.shape)),
      output: this.outputRecords.map((r) => valueInfo(r.name, r.type, r.shape)),
    });
    const model = create(ModelProtoSchema, {
      irVersion: BigInt(IR_VERSION),
      opsetImport: [{ domain: "", version: BigInt(OPSET) }],
      producerName: "lafited",
      producerVersion: "1",
      graph,
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
    });
    return toBinary(ModelProtoSchema, model);
  }
}

function valueInfo(name: string, type: DataType, shape: readonly Dim[]): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: "tensorType",
        value: {
          elemType: type,
          shape: {
            dim: shape.map((d) => ({ value: typeof d === "number" ? { case: "dimValue" as const, value: BigInt(d) } : { case: "dimParam" as const, value: d } })),
          },
        },
      },
    },
  });
}

export function dataTypeOf(data: TensorData): DataType {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Uint8Array) return DataType.UINT8;
  return DataType.INT8;
}

export function tensorProto(name: string, data: TensorData, dims: readonly number[]): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`tensor '${name}': ${data.length} values do not fill shape [${dims.join(",")}]`);
  // raw_data is little-endian by spec; copy so a view into a larger buffer does not leak the rest.
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return create(TensorProtoSchema, { name, dims: dims.map((d) => BigInt(d)), dataType: dataTypeOf(data), rawData: raw });
}

function attributeProto(name: string, v: AttrValue): AttributeProto {
  const a = create(AttributeProtoSchema, { name });
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`attribute '${name}': ${v} is not an integer; use { float: x } for FLOAT attributes`);
    a.type = AttrType.INT;
    a.i = BigInt(v);
  } else if (typeof v === "string") {
    a.type = AttrType.STRING;
    a.s = new TextEncoder().encode(v);
  } else if (v instanceof Float32Array) {
    a.type = AttrType.FLOATS;
    a.floats = [...v];
  } else if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === "string") {
      a.type = AttrType.STRINGS;
      a.strings = (v as string[]).map((s) => new TextEncoder().encode(s));
    } else {
      a.type = AttrType.INTS;
      a.ints = (v as number[]).map((x) => BigInt(x));
    }
  } else if ("float" in v) {
    a.type = AttrType.FLOAT;
    a.f = v.float;
  } else {
    a.type = AttrType.TENSOR;
    a.t = v;
  }
  return a;
}

function nodeProto(n: NodeRecord, index: number): NodeProto {
  return create(NodeProtoSchema, {
    name: `${n.opType}_${index}`,
    opType: n.opType,
    input: [...n.inputs],
    output: [...n.outputs],
    attribute: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v)),
  });
}
