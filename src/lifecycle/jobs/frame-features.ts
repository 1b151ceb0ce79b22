/**
 * Standardized backbone features of image files, as fit computes them
 * (decode → S×S → backbone → the bundle's mean/std), in batches, with
 * cancellation between batches. A file that is missing, unreadable, not an
 * image, or whose content no longer matches its recorded SHA-256 is reported
 * and skipped, never fatal: one bad ledger entry must not sink a job.
 */
import { readImageFile } from "../../image/read-image-file.js";
import { sha256 } from "../../model/bundle.js";
import { standardizeInPlace } from "../../model/feature-stats.js";
import type { FeatureMap } from "../../model/types.js";
import type { FrameSize } from "../../model/backbone-runner.js";
import { throwIfCancelled } from "../../util/progress.js";
import type { ActiveModel } from "./active-model.js";

export interface FileRequest {
  readonly path: string;
  /** When given, the file's content must hash to it. */
  readonly sha256?: string;
}

export type FileFeatures = { readonly ok: true; readonly map: FeatureMap } | { readonly ok: false; readonly reason: string };

export async function featuresOfFiles(
  model: ActiveModel,
  files: readonly FileRequest[],
  options: { signal?: AbortSignal; batchSize?: number; onProgress?: (done: number) => void; what?: string } = {},
): Promise<FileFeatures[]> {
  const S = model.manifest.backbone.inputSize;
  const B = Math.max(1, options.batchSize ?? model.manifest.config.batchSize);
  const out: FileFeatures[] = [];
  for (let start = 0; start < files.length; start += B) {
    throwIfCancelled(options.signal, options.what ?? "feature extraction");
    const chunk = files.slice(start, start + B);
    const inputs = await Promise.all(
      chunk.map(async (f): Promise<{ input: Float32Array; size: FrameSize } | string> => {
        try {
          // A tile reference (a tiled class's tile bundle, tiled-classes.ts) is checked by its whole file's content.
          const { bytes, image } = await readImageFile(f.path);
          if (f.sha256 !== undefined && sha256(bytes) !== f.sha256.toLowerCase()) return "content does not match its recorded SHA-256";
          return { input: await model.backbone.input(image), size: { width: image.width, height: image.height } };
        } catch (err) {
          return (err as Error).message;
        }
      }),
    );
    const good = inputs.filter((x) => typeof x !== "string");
    let maps: FeatureMap[] = [];
    if (good.length > 0) {
      const batch = new Float32Array(good.length * 3 * S * S);
      good.forEach((x, i) => batch.set(x.input, i * x.input.length));
      maps = await model.backbone.run(batch, good.length, good.map((x) => x.size));
      for (const x of maps) standardizeInPlace(x, model.stats);
    }
    let g = 0;
    for (const x of inputs) out.push(typeof x === "string" ? { ok: false, reason: x } : { ok: true, map: maps[g++]! });
    options.onProgress?.(Math.min(files.length, start + B));
  }
  return out;
}
