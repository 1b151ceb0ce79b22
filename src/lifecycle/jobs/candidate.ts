/**
 * Writing a job's candidate bundle: the parent's manifest with the job's
 * changes, a new version, the parent's version and the data snapshot, the
 * parent's files with the job's replacements; written atomically
 * (writeBundle), then verified the way the daemon will load it — every
 * file's hash, and a detector opened for every calibrated mode.
 */
import { readBundle, sha256, writeBundle, type BundleFiles, type BundleManifest } from "../../model/bundle.js";
import { detectorFromBundle } from "../../pipeline/load.js";
import type { ScoringMode } from "../../model/types.js";

/** Same scheme as fit: UTC time to the second, then a content hash of what changed. */
export function bundleVersion(createdAt: Date, changed: Uint8Array): string {
  return `${createdAt.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}-${sha256(changed).slice(0, 8)}`;
}

export async function writeCandidate(
  outDir: string,
  parent: BundleManifest,
  parentFiles: (name: string) => Uint8Array,
  manifest: Omit<BundleManifest, "files" | "format" | "formatVersion">,
  replaced: BundleFiles,
  intraOpThreads?: number,
  /** Swap out an existing bundle at outDir atomically (`lafite train` without --out); jobs write into an empty folder. */
  replace = false,
): Promise<BundleManifest> {
  const files: BundleFiles = {};
  for (const name of Object.keys(parent.files)) files[name] = parentFiles(name);
  Object.assign(files, replaced);
  const written = await writeBundle(outDir, { format: parent.format, formatVersion: parent.formatVersion, ...manifest }, files, replace);
  await verifyCandidate(outDir, intraOpThreads);
  return written;
}

/** A candidate read back the way the daemon will load it: every file's hash, and a detector opened for every calibrated mode. */
export async function verifyCandidate(dir: string, intraOpThreads?: number): Promise<void> {
  const loaded = await readBundle(dir);
  const m = loaded.manifest;
  for (const mode of Object.keys(m.thresholds ?? { [m.scoring.mode]: true }) as ScoringMode[]) {
    const detector = await detectorFromBundle(loaded, { mode, ...(intraOpThreads ? { intraOpThreads } : {}) });
    await detector.close();
  }
}

/** A manifest's own fields, without what writeBundle fills in. */
export function withoutFiles(m: BundleManifest): Omit<BundleManifest, "files" | "format" | "formatVersion"> {
  const { files: _files, format: _format, formatVersion: _fv, ...rest } = m;
  return rest;
}
