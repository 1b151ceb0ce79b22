/**
 * Training checkpoints: parameters, AdamW moments, step, loss average and the
 * hash of the config and data they belong to, in one file written atomically
 * (temp file + fsync + rename + fsync of the folder), so an interrupt at any
 * moment leaves either the old or the new checkpoint, never a torn one.
 *
 * Random state needs no saving: every step draws from the stream
 * (seed, step) (see prng.ts), so `step` and the seed restore it.
 *
 * Layout: "LAFDCKPT" | u32 LE header length | header JSON | zero pad to 4 |
 * float32 LE blocks in header order (for each tensor: value, m, v, and the
 * weight EMA's shadow when the header says `withEma`).
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../../util/atomic-file.js";

const MAGIC = "LAFDCKPT";
export const CHECKPOINT_FILE = "diffusion.ckpt";

/** Where the checkpoints of a run that writes bundle `out` wait: `.<out>.diffusion-checkpoint` beside it (fit and `lafite train`). */
export function checkpointDirBeside(out: string): string {
  const abs = path.resolve(out);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.diffusion-checkpoint`);
}

export interface Checkpoint {
  readonly configHash: string;
  /** Optimizer steps completed. */
  readonly step: number;
  readonly seed: number;
  /** Bias-corrected EMA of the loss, and its raw accumulator. */
  readonly lossEma: { readonly value: number; readonly weight: number };
  readonly params: ReadonlyMap<string, Float32Array>;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
  /** The weight EMA's shadow (weight-ema.ts), when training keeps one. */
  readonly ema?: ReadonlyMap<string, Float32Array>;
  /** Wall-clock seconds of training so far, across resumes (time budgets continue from it). */
  readonly elapsedSeconds?: number;
}

interface Header {
  version: 1;
  configHash: string;
  step: number;
  seed: number;
  lossEma: { value: number; weight: number };
  tensors: { name: string; length: number }[];
  withEma?: boolean;
  elapsedSeconds?: number;
}

export function hashText(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function writeCheckpoint(dir: string, ck: Checkpoint): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const names = [...ck.params.keys()];
  const header: Header = {
    version: 1,
    configHash: ck.configHash,
    step: ck.step,
    seed: ck.seed,
    lossEma: { ...ck.lossEma },
    tensors: names.map((name) => ({ name, length: ck.params.get(name)!.length })),
    ...(ck.ema ? { withEma: true } : {}),
    ...(ck.elapsedSeconds !== undefined ? { elapsedSeconds: ck.elapsedSeconds } : {}),
  };
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const pre = 8 + 4 + json.length;
  const pad = (4 - (pre % 4)) % 4;
  const head = Buffer.alloc(pre + pad);
  head.write(MAGIC, 0, "ascii");
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);

  const file = path.join(dir, CHECKPOINT_FILE);
  const chunks: Uint8Array[] = [head];
  for (const name of names) {
    for (const map of ck.ema ? [ck.params, ck.m, ck.v, ck.ema] : [ck.params, ck.m, ck.v]) {
      const t = map.get(name);
      if (!t) throw new Error(`checkpoint: tensor '${name}' is missing from params, moments or EMA`);
      chunks.push(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    }
  }
  await writeFileAtomic(file, chunks);
  return file;
}

/** The checkpoint in `dir`, or undefined if there is none. Throws on a damaged file. */
export async function readCheckpoint(dir: string): Promise<Checkpoint | undefined> {
  const file = path.join(dir, CHECKPOINT_FILE);
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  if (buf.length < 12 || buf.toString("ascii", 0, 8) !== MAGIC) throw new Error(`checkpoint ${file}: not a lafited diffusion checkpoint`);
  const len = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString("utf8", 12, 12 + len)) as Header;
  if (header.version !== 1) throw new Error(`checkpoint ${file}: unsupported version ${String(header.version)}`);
  let off = 12 + len;
  off += (4 - (off % 4)) % 4;
  const blocks = header.withEma ? 4 : 3;
  const total = header.tensors.reduce((a, t) => a + blocks * t.length * 4, 0);
  if (buf.length !== off + total) throw new Error(`checkpoint ${file}: size ${buf.length} does not match its header (${off + total})`);
  const params = new Map<string, Float32Array>();
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  const ema = header.withEma ? new Map<string, Float32Array>() : undefined;
  for (const t of header.tensors) {
    for (const map of ema ? [params, m, v, ema] : [params, m, v]) {
      // Copy into a fresh, aligned buffer owned by the map.
      const arr = new Float32Array(t.length);
      new Uint8Array(arr.buffer).set(buf.subarray(off, off + t.length * 4));
      map.set(t.name, arr);
      off += t.length * 4;
    }
  }
  return {
    configHash: header.configHash,
    step: header.step,
    seed: header.seed,
    lossEma: header.lossEma,
    params,
    m,
    v,
    ...(ema ? { ema } : {}),
    ...(header.elapsedSeconds !== undefined ? { elapsedSeconds: header.elapsedSeconds } : {}),
  };
}
