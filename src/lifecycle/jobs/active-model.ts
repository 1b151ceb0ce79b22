/**
 * The active bundle opened for a job: verified files, the coreset rows,
 * the standardization statistics and a backbone session. Jobs keep the
 * bundle's statistics fixed: the coreset and the U-Net live in that
 * standardized space, so new frames must be measured in it too.
 */
import { bytesToFloat32, readBundle, type BundleManifest, type LoadedBundle } from "../../model/bundle.js";
import { BackboneRunner, sessionOptions } from "../../model/backbone-runner.js";
import type { FeatureStats } from "../../model/feature-stats.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import type * as ort from "onnxruntime-node";
import { frameFitOf } from "../../image/geometry.js";

export interface ActiveModel {
  readonly bundle: LoadedBundle;
  readonly manifest: BundleManifest;
  /** coresetSize × c rows. */
  readonly coreset: Float32Array;
  readonly stats: FeatureStats;
  readonly backbone: BackboneRunner;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  release(): Promise<void>;
}

export async function openActiveModel(dir: string, intraOpThreads?: number): Promise<ActiveModel> {
  const bundle = await readBundle(dir);
  const m = bundle.manifest;
  const { c } = m.features;
  const coreset = bytesToFloat32(bundle.file(m.memory.vectorsFile));
  if (coreset.length !== m.memory.coresetSize * c) throw new LafiteError(ErrorCode.BAD_BUNDLE, `bundle ${dir}: coreset has ${coreset.length} values, manifest says ${m.memory.coresetSize}×${c}`);
  // Jobs run beside serving on the same cores: CPU, with the runner's thread budget.
  const opts = sessionOptions("cpu", intraOpThreads);
  const backbone = await BackboneRunner.open(bundle.file(m.backbone.file), m.backbone.inputSize, opts, frameFitOf(m.backbone));
  return {
    bundle,
    manifest: m,
    coreset,
    stats: { mean: Float32Array.from(m.features.mean), std: Float32Array.from(m.features.std) },
    backbone,
    sessionOptions: opts,
    release: () => backbone.release(),
  };
}
