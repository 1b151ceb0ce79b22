/**
 * Minimal valid bundles for lifecycle tests: a real manifest (format,
 * version, threshold, provenance with held-out files) and one small data
 * file, written with the real writeBundle, so readBundle verifies them. No
 * ONNX: FakeDetector / fakeBundleScorer score them by brightness against
 * the manifest's threshold.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeBundle, readBundle, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleManifest } from "../../../src/model/bundle.js";
import type { BundleScorerFactory } from "../../../src/lifecycle/job-body.js";
import { FakeDetector } from "../../server/support/fake-detector.js";

export interface FakeBundleOptions {
  readonly threshold?: number;
  readonly dataset?: string;
  readonly holdoutFiles?: readonly string[];
}

export async function writeFakeBundle(dir: string, version: string, o: FakeBundleOptions = {}): Promise<BundleManifest> {
  const manifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    version,
    createdAt: new Date().toISOString(),
    threshold: { value: o.threshold ?? 0.5, method: "fake", holdoutImages: 0, holdoutScores: { min: 0, median: 0, max: 0 } },
    metrics: { fake: true },
    provenance: { dataset: o.dataset ?? "/nonexistent", classes: {}, trainListSha256: "", skippedFiles: [], holdoutFiles: o.holdoutFiles ?? [], timings: {}, tool: "test" },
  } as unknown as Omit<BundleManifest, "files">; // only the fields the lifecycle reads
  return writeBundle(dir, manifest, { "weights.bin": new TextEncoder().encode(`weights of ${version}`) }, true);
}

export async function fakeManifest(dir: string): Promise<BundleManifest> {
  return JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as BundleManifest;
}

/** A FakeDetector serving a fake bundle after verifying it like the real loader. */
export async function loadFakeDetector(dir: string): Promise<FakeDetector> {
  const b = await readBundle(dir);
  return new FakeDetector({ version: b.manifest.version, threshold: b.manifest.threshold.value });
}

export const fakeBundleScorer: BundleScorerFactory = async (dir) => {
  const d = await loadFakeDetector(dir);
  return {
    version: d.info.version,
    threshold: d.info.threshold,
    score: async (image) => {
      const r = await d.detect({ kind: "encoded", bytes: image });
      return { score: r.score, threshold: r.threshold };
    },
    close: () => d.close(),
  };
};
