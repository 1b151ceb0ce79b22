/**
 * Wraps a user's ONNX backbone so it honours the same contract as the
 * embedded default: input `image` [N,3,S,S] RGB in [0,255], output `features`
 * [N,c,h,w]. Nodes are spliced into the user's graph: a prefix scales to
 * [0,1] and normalizes with the configured mean/std, and a suffix applies
 * the local average pooling, bilinear resize to the grid and channel concat
 * to the named outputs. One session call then yields x ∈ R^{c×h×w}.
 */
import { readFile } from "node:fs/promises";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ModelProtoSchema, type ModelProto } from "../gen/onnx/onnx_pb.js";
import { DataType, GraphBuilder } from "../onnx/graph-builder.js";
import { emitStageHead } from "./backbone/stage-head.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import { BACKBONE_INPUT, BACKBONE_OUTPUT } from "./backbone-runner.js";
import type { BackboneConfig } from "./model-config.js";

type OnnxBackboneConfig = Extract<BackboneConfig, { kind: "onnx" }>;

const bad = (path: string, msg: string) => new LafiteError(ErrorCode.INVALID_CONFIG, `backbone ${path}: ${msg}`);

export async function wrapUserBackbone(cfg: OnnxBackboneConfig, grid: number): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(cfg.path);
  } catch (err) {
    throw bad(cfg.path, `cannot read the ONNX file: ${(err as Error).message}`);
  }
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    throw bad(cfg.path, `not an ONNX model: ${(err as Error).message}`);
  }
  return toBinary(ModelProtoSchema, spliceHead(model, cfg, grid));
}

export function spliceHead(model: ModelProto, cfg: OnnxBackboneConfig, grid: number): ModelProto {
  const graph = model.graph;
  if (!graph) throw bad(cfg.path, "model has no graph");
  const opset = Number(model.opsetImport.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 0n);
  if (opset < 11) throw bad(cfg.path, `opset ${opset} is too old (need ≥ 11 for Resize with sizes)`);
  const inputIdx = graph.input.findIndex((i) => i.name === cfg.input);
  if (inputIdx < 0) throw bad(cfg.path, `has no input '${cfg.input}' (inputs: ${graph.input.map((i) => i.name).join(", ")})`);
  const produced = new Set(graph.node.flatMap((n) => n.output));
  for (const o of cfg.outputs) if (!produced.has(o) && !graph.output.some((g) => g.name === o)) throw bad(cfg.path, `no tensor named '${o}' (config backbone.outputs)`);
  const taken = new Set([...produced, ...graph.input.map((i) => i.name), ...graph.initializer.map((i) => i.name)]);
  if (taken.has(BACKBONE_INPUT) || taken.has(BACKBONE_OUTPUT)) throw bad(cfg.path, `tensor names '${BACKBONE_INPUT}'/'${BACKBONE_OUTPUT}' are reserved for the wrapper`);

  // Build prefix and suffix with the builder, then move its nodes into the user's graph.
  const g = new GraphBuilder("lafited_head");
  const S = cfg.inputSize;
  const image = g.input(BACKBONE_INPUT, DataType.FLOAT, ["N", 3, S, S]);
  const mean = g.constant(Float32Array.from(cfg.mean.map((m) => m * 255)), [1, 3, 1, 1], "lafited_mean");
  const std = g.constant(Float32Array.from(cfg.std.map((s) => s * 255)), [1, 3, 1, 1], "lafited_std");
  const [centered] = g.op("Sub", [image, mean]);
  g.op("Div", [centered!, std], {}, cfg.input);
  emitStageHead(g, cfg.outputs.map((name) => ({ name })), grid, cfg.pool, BACKBONE_OUTPUT);
  const head = fromBinary(ModelProtoSchema, g.toBytes()).graph!;
  for (const n of head.node) {
    for (const o of n.output) if (taken.has(o) && o !== cfg.input) throw bad(cfg.path, `tensor name '${o}' clashes with the wrapper; rename it in the model`);
    n.name = `lafited_${n.name}`;
  }
  const prefixCount = 2; // Sub, Div feeding the user's input
  graph.node = [...head.node.slice(0, prefixCount), ...graph.node, ...head.node.slice(prefixCount)];
  graph.initializer.push(...head.initializer);
  graph.input.splice(inputIdx, 1, head.input[0]!);
  graph.output = head.output;
  return model;
}
