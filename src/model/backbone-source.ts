/**
 * Where a bundle's backbone graph comes from: the embedded default (nsfwjs's
 * ImageNet weights converted to ONNX on first use and cached on disk, never
 * committed) or a user's ONNX model wrapped with the same input contract
 * (see user-backbone.ts).
 */
import { readFile } from "node:fs/promises";
import type { ModelConfig } from "./model-config.js";
import { buildBackboneOnnx, ensureBackbone } from "./backbone/index.js";
import { wrapUserBackbone } from "./user-backbone.js";
import { stageChannelRange, type ChannelRange } from "./scoring/detail-bank.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface BackboneSource {
  readonly name: string;
  readonly onnx: Uint8Array;
  readonly inputSize: number;
  readonly stages: readonly string[];
  /** Channels of each stage in the concatenated features (builtin backbones; a user ONNX backbone's are not read). */
  readonly stageChannels?: readonly number[];
}

export async function resolveBackbone(config: ModelConfig, cacheDir: string): Promise<BackboneSource> {
  const b = config.backbone;
  if (b.kind === "builtin") {
    const built = await ensureBackbone({ arch: b.arch, stages: [...b.stages], grid: config.grid, pool: b.pool, ...(b.inputSize ? { inputSize: b.inputSize } : {}) }, cacheDir);
    return { name: `${b.arch}[${b.stages.join("+")}]`, onnx: new Uint8Array(await readFile(built.path)), inputSize: built.inputSize, stages: b.stages, stageChannels: built.stageChannels };
  }
  const onnx = await wrapUserBackbone(b, config.grid);
  return { name: `onnx:${b.path}[${b.outputs.join("+")}]`, onnx, inputSize: b.inputSize, stages: b.outputs };
}

/**
 * The detail bank's stages and channels (scoring/detail-bank.ts) from
 * `scoring.detail.stages`: `auto` is every stage but the coarsest, when the
 * stage widths are known and there are two stages or more; [] is none.
 */
export function detailStagesOf(config: ModelConfig, source: Pick<BackboneSource, "stages" | "stageChannels">): { stages: string[]; channels: ChannelRange } | undefined {
  const wanted = config.scoring.detail.stages;
  if (wanted !== "auto" && wanted.length === 0) return undefined;
  const widths = source.stageChannels;
  if (!widths) {
    if (wanted === "auto") return undefined;
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `scoring.detail.stages [${wanted.join(", ")}]: the stage widths of a user ONNX backbone are not known; use auto or []`);
  }
  const stages = wanted === "auto" ? source.stages.slice(0, -1) : wanted;
  if (stages.length === 0) return undefined;
  try {
    return { stages: [...stages], channels: stageChannelRange(source.stages, widths, stages) };
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `scoring.detail.stages: ${(err as Error).message}`);
  }
}

/**
 * The stage widths of a bundle's builtin backbone, from its config (the
 * graph is rebuilt in memory, about 0.1 s): for bundles fitted before the
 * detail bank, which do not record them. Undefined for a user ONNX backbone.
 */
export function builtinStageChannels(config: ModelConfig): number[] | undefined {
  const b = config.backbone;
  if (b.kind !== "builtin") return undefined;
  return buildBackboneOnnx({ arch: b.arch, stages: [...b.stages], grid: config.grid, pool: b.pool, ...(b.inputSize ? { inputSize: b.inputSize } : {}) }).stageChannels;
}
