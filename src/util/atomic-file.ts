/**
 * Durable file writes, shared by bundles, checkpoints and caches: a reader
 * (or a crash) sees either the old file or the complete new one.
 */
import { open, rename } from "node:fs/promises";
import { dirname } from "node:path";

type Chunks = Uint8Array | string | readonly Uint8Array[];

/** Writes `data` to `path` and fsyncs it (no rename: for files inside a folder that is itself swapped in). */
export async function writeFileSynced(path: string, data: Chunks): Promise<void> {
  const fh = await open(path, "w");
  try {
    if (typeof data === "string" || data instanceof Uint8Array) await fh.writeFile(data);
    else for (const chunk of data) await fh.write(chunk);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a folder, so a rename inside it survives a power loss. */
export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Temp file beside `path`, fsync, rename over `path`, fsync the folder. */
export async function writeFileAtomic(path: string, data: Chunks): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFileSynced(tmp, data);
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}
