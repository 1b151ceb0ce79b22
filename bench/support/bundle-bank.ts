/** A fitted bundle's bank, U-Net and served settings, for benches that re-score a suite's features with it. */
import { bytesToFloat32, type LoadedBundle } from "../../src/model/bundle.js";
import { scorerSettingsOf, type ScorerParts, type ScorerSettings } from "../../src/pipeline/open-scorer.js";
import type { SuiteFeatures } from "./suite-features.js";

/**
 * The bundle's main bank and settings, after checking it standardizes features exactly as this suite run does (same data, same config).
 * Without its detail and context banks: these benches vary the main bank's settings, and those banks' normalizers hold only at the bundle's own.
 */
export function bundleBank(bundle: LoadedBundle, suite: SuiteFeatures, flag = "--bundle"): { parts: ScorerParts; settings: ScorerSettings } {
  const m = bundle.manifest;
  const { c } = suite.bank[0]!;
  const off = Math.max(...m.features.mean.map((v, i) => Math.abs(v - suite.stats.mean[i]!) / suite.stats.std[i]!), ...m.features.std.map((v, i) => Math.abs(v / suite.stats.std[i]! - 1)));
  if (m.features.c !== c || !(off < 1e-3)) throw new Error(`${flag} ${bundle.dir} was not fitted on these features (channels ${m.features.c} vs ${c}, statistics differ by ${off}): fit it on --data with --config`);
  const sc = m.scoring;
  return {
    parts: { coreset: bytesToFloat32(bundle.file(m.memory.vectorsFile)), coresetSize: m.memory.coresetSize, c, ...(sc.denoiserFile ? { unetOnnx: bundle.file(sc.denoiserFile) } : {}) },
    settings: { ...scorerSettingsOf(m), mapSize: suite.mapSize, detail: undefined, context: undefined },
  };
}
