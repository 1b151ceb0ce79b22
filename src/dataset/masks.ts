/**
 * Reading a test image's ground-truth mask as the data-set scanner found it:
 * one mask file, or a folder of masks (MVTec LOCO AD keeps one file per
 * defect region of an image) whose union is the mask. Non-zero is anomalous.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { decodeMask } from "../image/decode.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import { listImageFiles } from "./mvtec-layout.js";

export interface Mask {
  readonly width: number;
  readonly height: number;
  /** 1 where anomalous, row-major. */
  readonly mask: Uint8Array;
}

export async function readMask(path: string): Promise<Mask> {
  if (!(await stat(path)).isDirectory()) return decodeMask(await readFile(path));
  const files = await listImageFiles(path);
  if (files.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `mask folder ${path} holds no mask`);
  let union: Mask | undefined;
  for (const file of files) {
    const m = await decodeMask(await readFile(file));
    if (!union) {
      union = { width: m.width, height: m.height, mask: m.mask };
      continue;
    }
    if (m.width !== union.width || m.height !== union.height) {
      throw new LafiteError(ErrorCode.BAD_DATASET, `mask ${basename(file)} in ${path} is ${m.width}×${m.height}, the folder's first is ${union.width}×${union.height}`);
    }
    for (let i = 0; i < m.mask.length; i++) union.mask[i] = union.mask[i]! | m.mask[i]!;
  }
  return union!;
}
