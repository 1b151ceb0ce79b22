/**
 * Accepted and confirmed images as content-hash-named files:
 * `<dataDir>/frames/<sha256[0..2]>/<sha256>.<ext>`. A file is written and
 * fsynced (and its folder fsynced) before the ledger row that names it is
 * committed, so a committed row always points at a complete image. Files
 * without a row (a crash between the write and the commit) are swept at start.
 */
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { fsyncDir, writeFileSynced } from "../util/atomic-file.js";
import { sha256 } from "../model/bundle.js";

export interface StoredImage {
  readonly sha256: string;
  /** Path relative to dataDir, as the ledger records it. */
  readonly file: string;
}

/** File extension by magic bytes; the content, not the name, is what readers trust. */
export function imageExtension(bytes: Uint8Array): string {
  const b = bytes;
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return "png";
  if (b[0] === 0xff && b[1] === 0xd8) return "jpg";
  if (b[0] === 0x42 && b[1] === 0x4d) return "bmp";
  if ((b[0] === 0x49 && b[1] === 0x49) || (b[0] === 0x4d && b[1] === 0x4d)) return "tif";
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46) return "webp";
  return "img";
}

export class ImageStore {
  readonly root: string;

  constructor(private readonly dataDir: string) {
    this.root = join(dataDir, "frames");
  }

  locate(bytes: Uint8Array): StoredImage {
    const hash = sha256(bytes);
    return { sha256: hash, file: relative(this.dataDir, join(this.root, hash.slice(0, 2), `${hash}.${imageExtension(bytes)}`)) };
  }

  absolute(file: string): string {
    return join(this.dataDir, file);
  }

  /** Writes the image durably (temp file, fsync, rename, fsync folder) unless it is already there. */
  async put(bytes: Uint8Array): Promise<StoredImage> {
    const img = this.locate(bytes);
    const path = this.absolute(img.file);
    const exists = await stat(path).then((s) => s.size === bytes.byteLength, () => false);
    if (exists) return img;
    const dir = join(this.root, img.sha256.slice(0, 2));
    await mkdir(dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFileSynced(tmp, bytes);
    await rename(tmp, path);
    await fsyncDir(dir);
    return img;
  }

  /** Deletes image files no ledger row names, and leftover temp files. Returns how many. */
  async sweep(referenced: ReadonlySet<string>): Promise<number> {
    let removed = 0;
    const shards = await readdir(this.root).catch(() => [] as string[]);
    for (const shard of shards) {
      const dir = join(this.root, shard);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const file = relative(this.dataDir, join(dir, name));
        if (!referenced.has(file)) {
          await rm(join(dir, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }
}
