/**
 * Where a bundle's backbone graph comes from: the embedded default (nsfwjs's
 * ImageNet weights converted to ONNX on first use and cached on disk, never
 * committed) or a user's ONNX model wrapped with the same input contract
 * (see user-backbone.ts).
 */
import { readFile } from "node:fs/promises";
import type { ModelConfig } from "./model-config.js";
import { ensureBackbone } from "./backbone/index.js";
import { wrapUserBackbone } from "./user-backbone.js";

export interface BackboneSource {
  readonly name: string;
  readonly onnx: Uint8Array;
  readonly inputSize: number;
  readonly stages: readonly string[];
}

export async function resolveBackbone(config: ModelConfig, cacheDir: string): Promise<BackboneSource> {
  const b = config.backbone;
  if (b.kind === "builtin") {
    const built = await ensureBackbone({ arch: b.arch, stages: [...b.stages], grid: config.grid, pool: b.pool, ...(b.inputSize ? { inputSize: b.inputSize } : {}) }, cacheDir);
    return { name: `${b.arch}[${b.stages.join("+")}]`, onnx: new Uint8Array(await readFile(built.path)), inputSize: built.inputSize, stages: b.stages };
  }
  const onnx = await wrapUserBackbone(b, config.grid);
  return { name: `onnx:${b.path}[${b.outputs.join("+")}]`, onnx, inputSize: b.inputSize, stages: b.outputs };
}
