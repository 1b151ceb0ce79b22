/**
 * The embedded default backbones: ImageNet MobileNetV2 and InceptionV3 as
 * shipped by the npm package nsfwjs, converted to ONNX feature extractors
 * (input `image` [N,3,S,S] RGB 0–255 → output `features` [N,c,grid,grid]).
 * The graph scales its input itself (to [0, 1]: see INPUT_SCALE).
 * Generated on first use and cached on disk, never committed.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { writeFileAtomic } from "../../util/atomic-file.js";
import { join } from "node:path";
import { DataType, GraphBuilder } from "../../onnx/graph-builder.js";
import { invalidInput } from "../../util/errors.js";
import { BACKBONE_INPUT, BACKBONE_OUTPUT } from "../backbone-runner.js";
import { emitKerasLayers, INPUT_SCALE } from "./keras-to-onnx.js";
import { readKerasModel, type BuiltinArch } from "./nsfwjs-package.js";
import { emitStageHead } from "./stage-head.js";

export type { BuiltinArch };

export interface BackboneSpec {
  readonly arch: BuiltinArch;
  readonly stages: readonly string[];
  readonly grid: number;
  /** k×k local average pooling per stage (0 or 1 = none). */
  readonly pool: number;
  readonly inputSize?: number;
}

/** Last layer whose weights are frozen ImageNet weights (later blocks were fine-tuned by nsfwjs for another task). */
const LAST_FROZEN: Record<BuiltinArch, string> = { mobilenet_v2: "block_10_project_BN", inception_v3: "mixed5" };
const DEFAULT_INPUT: Record<BuiltinArch, number> = { mobilenet_v2: 224, inception_v3: 299 };

/** Layer names usable as stages: every layer up to the last frozen one. */
export function listStages(arch: BuiltinArch): string[] {
  const layers = readKerasModel(arch).layers;
  const last = layers.findIndex((l) => l.name === LAST_FROZEN[arch]);
  return layers.slice(1, last + 1).map((l) => l.name);
}

function checkSpec(spec: BackboneSpec): number {
  if (!(spec.arch in LAST_FROZEN)) throw invalidInput(`unknown backbone arch '${spec.arch}' (expected ${Object.keys(LAST_FROZEN).join(" or ")})`);
  const allowed = new Set(listStages(spec.arch));
  const bad = spec.stages.filter((s) => !allowed.has(s));
  if (bad.length) throw invalidInput(`stage(s) ${bad.join(", ")} are not frozen ImageNet layers of ${spec.arch} (allowed up to ${LAST_FROZEN[spec.arch]})`);
  if (spec.stages.length === 0) throw invalidInput("at least one backbone stage is needed");
  const positiveInt = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (!positiveInt(spec.grid, 1)) throw invalidInput(`backbone grid must be a positive integer (got ${spec.grid})`);
  if (!positiveInt(spec.pool, 0)) throw invalidInput(`backbone pool must be a non-negative integer (got ${spec.pool})`);
  const inputSize = spec.inputSize ?? DEFAULT_INPUT[spec.arch];
  if (!positiveInt(inputSize, 32)) throw invalidInput(`backbone inputSize must be an integer ≥ 32 (got ${inputSize})`);
  return inputSize;
}

/** Each stage as its own output (no pooling or resizing): for verification against a reference. */
export function buildStageOutputsOnnx(arch: BuiltinArch, stages: readonly string[], inputSize: number): Uint8Array {
  const g = new GraphBuilder(`${arch}_stages`);
  const image = g.input(BACKBONE_INPUT, DataType.FLOAT, ["N", 3, inputSize, inputSize]);
  const outs = emitKerasLayers(g, readKerasModel(arch), image, inputSize, stages);
  for (const s of stages) {
    const t = outs.get(s)!;
    g.output(t.value, DataType.FLOAT, ["N", t.c, t.h, t.w], s);
  }
  return g.toBytes();
}

export function buildBackboneOnnx(spec: BackboneSpec): { onnx: Uint8Array; channels: number; inputSize: number; stageChannels: number[] } {
  const inputSize = checkSpec(spec);
  const g = new GraphBuilder(`${spec.arch}_features`);
  const image = g.input(BACKBONE_INPUT, DataType.FLOAT, ["N", 3, inputSize, inputSize]);
  const outs = emitKerasLayers(g, readKerasModel(spec.arch), image, inputSize, spec.stages);
  const stageTensors = spec.stages.map((s) => outs.get(s)!);
  emitStageHead(g, stageTensors.map((t) => t.value), spec.grid, spec.pool, BACKBONE_OUTPUT);
  const stageChannels = stageTensors.map((t) => t.c);
  return { onnx: g.toBytes({ arch: spec.arch, stages: spec.stages.join(","), input_range: INPUT_SCALE.range }), channels: stageChannels.reduce((a, b) => a + b, 0), inputSize, stageChannels };
}

/** Bump when the conversion changes, so cached graphs are rebuilt. 2: input scaled to [0, 1] (see INPUT_SCALE). */
const CONVERTER_VERSION = 2;

/** The generated ONNX for `spec`, cached at <cacheDir>/backbones/<arch>-<hash>.onnx (written atomically). */
export async function ensureBackbone(spec: BackboneSpec, cacheDir: string): Promise<{ path: string; channels: number; stageChannels: number[]; inputSize: number; sha256: string }> {
  const inputSize = checkSpec(spec);
  const nsfwjs = readKerasModel(spec.arch).packageVersion;
  const key = createHash("sha256")
    .update(JSON.stringify({ v: CONVERTER_VERSION, nsfwjs, arch: spec.arch, stages: spec.stages, grid: spec.grid, pool: spec.pool, inputSize }))
    .digest("hex")
    .slice(0, 16);
  const dir = join(cacheDir, "backbones");
  const path = join(dir, `${spec.arch}-${key}.onnx`);
  const meta = `${path}.json`;
  try {
    const [bytes, info] = await Promise.all([readFile(path), readFile(meta, "utf8").then((t) => JSON.parse(t) as { sha256: string; channels: number; stageChannels?: number[] })]);
    const sha = createHash("sha256").update(bytes).digest("hex");
    // Caches from before the stage widths were recorded are rebuilt (same bytes, fuller record).
    if (sha === info.sha256 && info.stageChannels) return { path, channels: info.channels, stageChannels: info.stageChannels, inputSize, sha256: sha };
  } catch {
    // absent or damaged: rebuild below
  }
  const built = buildBackboneOnnx(spec);
  const sha = createHash("sha256").update(built.onnx).digest("hex");
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(path, built.onnx);
  await writeFileAtomic(meta, JSON.stringify({ sha256: sha, channels: built.channels, stageChannels: built.stageChannels, spec: { ...spec, inputSize } }));
  return { path, channels: built.channels, stageChannels: built.stageChannels, inputSize, sha256: sha };
}
