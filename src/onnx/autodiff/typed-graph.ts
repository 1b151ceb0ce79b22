/**
 * A GraphBuilder paired with the static type (element type + shape) of every
 * tensor in it. Autodiff emits its backward nodes through `op`, so each new
 * value gets its shape on the spot, and reads constants (initializers) back as
 * numbers when a rule needs them.
 */
import { DataType, GraphBuilder, tensorProto, type AttrValue, type NodeRecord, type Value } from "../graph-builder.js";
import { constantValues } from "./constant-values.js";
import { inferNode, type TensorType } from "./shape-inference.js";

export class TypedGraph {
  private readonly types = new Map<string, TensorType>();

  constructor(readonly g: GraphBuilder) {
    for (const r of g.inputRecords) {
      const sym = r.shape.find((d) => typeof d !== "number");
      if (sym !== undefined) throw new Error(`autodiff: input '${r.name}' has symbolic dimension '${sym}'; training graphs need fixed shapes`);
      this.types.set(r.name, { dtype: r.type, shape: r.shape as number[] });
    }
    for (const [name, t] of g.initializers) this.types.set(name, { dtype: t.dataType, shape: t.dims.map((d) => Number(d)) });
  }

  /** Declares a new graph input with a fixed shape. */
  input(name: string, dtype: DataType, shape: readonly number[]): Value {
    const v = this.g.input(name, dtype, shape);
    this.types.set(name, { dtype, shape: [...shape] });
    return v;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  type(v: Value | string): TensorType {
    const name = typeof v === "string" ? v : v.name;
    const t = this.types.get(name);
    if (!t) throw new Error(`autodiff: no type known for tensor '${name}'`);
    return t;
  }

  shape(v: Value | string): readonly number[] {
    return this.type(v).shape;
  }

  /** The numbers in a constant (initializer) tensor, or undefined if it is computed. */
  constantOf(name: string): number[] | undefined {
    const t = this.g.initializers.get(name);
    return t ? constantValues(t) : undefined;
  }

  /** Infers and records the output types of a node already in the graph. */
  record(node: NodeRecord): void {
    const outs = inferNode({
      node,
      has: (k) => (node.inputs[k] ?? "") !== "",
      type: (k) => {
        const n = node.inputs[k];
        if (!n) throw new Error(`${node.opType}: input ${k} is missing`);
        return this.type(n);
      },
      constant: (k) => {
        const n = node.inputs[k] ?? "";
        const v = this.constantOf(n);
        if (!v) throw new Error(`${node.opType}: input ${k} ('${n}') must be a constant initializer for static shapes`);
        return v;
      },
    });
    node.outputs.forEach((o, i) => {
      if (o !== "" && outs[i]) this.types.set(o, outs[i]!);
    });
  }

  /** Appends a single-output node and records its type. */
  op(opType: string, inputs: readonly (Value | "")[], attrs: Record<string, AttrValue> = {}): Value {
    const [y] = this.g.op(opType, inputs, attrs);
    this.record(this.g.nodes[this.g.nodes.length - 1]!);
    return y!;
  }

  /** Int64 1-D constant (shapes, axes, pads). */
  int64s(values: readonly number[]): Value {
    const v = this.g.int64s(values);
    this.types.set(v.name, { dtype: DataType.INT64, shape: [values.length] });
    return v;
  }

  /** A scalar constant of the given float type. */
  scalar(x: number, dtype: DataType): Value {
    const data = dtype === DataType.DOUBLE ? Float64Array.of(x) : Float32Array.of(x);
    const v = this.g.constant(data, [], "scalar");
    this.types.set(v.name, { dtype, shape: [] });
    return v;
  }

  /** A float constant tensor (used for small tables). */
  floats(values: readonly number[], dims: readonly number[], dtype: DataType): Value {
    const data = dtype === DataType.DOUBLE ? Float64Array.from(values) : Float32Array.from(values);
    const v = this.g.constant(data, dims, "const");
    this.types.set(v.name, { dtype, shape: [...dims] });
    return v;
  }

  /** Zeros of a shape, without storing them in the file. */
  zeros(shape: readonly number[], dtype: DataType): Value {
    const value = tensorProto("value", dtype === DataType.DOUBLE ? new Float64Array(1) : new Float32Array(1), [1]);
    return this.op("ConstantOfShape", [this.int64s(shape)], { value });
  }
}
