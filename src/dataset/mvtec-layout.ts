/**
 * Data sets in the MVTec AD folder layout:
 *   <root>/<class>/train/good/*          normal training images
 *   <root>/<class>/validation/good/*     (optional, MVTec LOCO AD) normal images held out of training
 *   <root>/<class>/test/<good|defect>/*  test images
 *   <root>/<class>/ground_truth/<defect>/<stem>_mask.*   (optional)
 * or, as MVTec LOCO AD files them, a folder of masks per image whose union
 * is the image's mask (one file per defect region):
 *   <root>/<class>/ground_truth/<defect>/<stem>/*
 * Real folders are messy: image formats are found by content later, so any
 * regular file that is not obviously something else is listed; classes
 * without ground_truth get image metrics only.
 */
import { readdir, stat } from "node:fs/promises";
import type { Dirent } from "node:fs";
import { join, parse } from "node:path";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface TestImage {
  readonly path: string;
  readonly defect: string;
  readonly anomalous: boolean;
  /** Mask path, a file or a folder of masks to unite (dataset/masks.ts readMask); undefined for good images (all-normal) or when none exists. */
  readonly maskPath?: string;
}

export interface DatasetClass {
  readonly name: string;
  readonly train: readonly string[];
  /** validation/good (MVTec LOCO AD): normal images meant for validation, which fit holds out instead of a share of train. */
  readonly validation: readonly string[];
  readonly test: readonly TestImage[];
  /** True when the class has a ground_truth folder, so pixel metrics apply. */
  readonly hasMasks: boolean;
  /** Anomalous test images whose mask could not be found. */
  readonly missingMasks: readonly string[];
}

const NOT_IMAGES = new Set([".txt", ".json", ".md", ".csv", ".xml", ".yaml", ".yml", ".db", ".ini", ".zip", ".py", ".sh"]);

const natural = new Intl.Collator("en", { numeric: true }).compare;

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

/** What a directory entry is once symbolic links are followed; undefined for a dangling or looping link. */
async function kindOf(dir: string, e: Dirent): Promise<"dir" | "file" | undefined> {
  if (e.isDirectory()) return "dir";
  if (e.isFile()) return "file";
  if (!e.isSymbolicLink()) return undefined;
  // stat follows the link; a loop fails with ELOOP and a dangling link with ENOENT, both left out.
  // The layout has a fixed depth (class/train/good), so following links can never recurse forever.
  const st = await stat(join(dir, e.name)).catch(() => undefined);
  return st?.isDirectory() ? "dir" : st?.isFile() ? "file" : undefined;
}

async function entriesOfKind(dir: string, kind: "dir" | "file"): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[]);
  const names: string[] = [];
  for (const e of entries) if (!e.name.startsWith(".") && (await kindOf(dir, e)) === kind) names.push(e.name);
  return names.sort(natural);
}

/** Sub-folders, following symbolic links (data sets are often composed from links to other folders). */
function listDirs(p: string): Promise<string[]> {
  return entriesOfKind(p, "dir");
}

/** Files that may be images: hidden files and known non-image types are skipped; links to files are followed. */
export async function listImageFiles(dir: string): Promise<string[]> {
  const names = await entriesOfKind(dir, "file");
  return names.filter((n) => !NOT_IMAGES.has(parse(n).ext.toLowerCase())).map((n) => join(dir, n));
}

export async function scanDataset(root: string, options: { classes?: readonly string[] } = {}): Promise<DatasetClass[]> {
  if (!(await isDir(root))) throw new LafiteError(ErrorCode.BAD_DATASET, `data set folder ${root} does not exist or is not a folder`);
  let names: string[] = [];
  for (const name of await listDirs(root)) {
    if ((await isDir(join(root, name, "train"))) || (await isDir(join(root, name, "test")))) names.push(name);
  }
  if (options.classes) {
    const unknown = options.classes.filter((c) => !names.includes(c));
    if (unknown.length) throw new LafiteError(ErrorCode.BAD_DATASET, `class(es) ${unknown.join(", ")} not found in ${root} (found: ${names.join(", ") || "none"})`);
    names = [...options.classes];
  }
  if (names.length === 0) throw new LafiteError(ErrorCode.BAD_DATASET, `no class folders with train/ or test/ in ${root} (expected the MVTec AD layout <class>/train/good)`);

  const classes: DatasetClass[] = [];
  for (const name of names) {
    const base = join(root, name);
    const train = await listImageFiles(join(base, "train", "good"));
    const validation = await listImageFiles(join(base, "validation", "good"));
    const gtRoot = join(base, "ground_truth");
    const hasMasks = await isDir(gtRoot);
    const test: TestImage[] = [];
    const missingMasks: string[] = [];
    for (const defect of await listDirs(join(base, "test"))) {
      const anomalous = defect !== "good";
      const masks = anomalous && hasMasks ? await maskIndex(join(gtRoot, defect)) : new Map<string, string>();
      for (const path of await listImageFiles(join(base, "test", defect))) {
        const stem = parse(path).name;
        const maskPath = anomalous ? (masks.get(`${stem}_mask`) ?? masks.get(stem)) : undefined;
        if (anomalous && hasMasks && maskPath === undefined) missingMasks.push(path);
        test.push({ path, defect, anomalous, ...(maskPath ? { maskPath } : {}) });
      }
    }
    classes.push({ name, train, validation, test, hasMasks, missingMasks });
  }
  return classes;
}

/** Masks of one defect folder keyed by stem: mask files, and (MVTec LOCO) folders that hold an image's masks. */
async function maskIndex(dir: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const p of await listImageFiles(dir)) map.set(parse(p).name, p);
  for (const name of await listDirs(dir)) {
    // An empty folder is no mask: the image is then reported as missing one, not scored against an empty mask.
    if (!map.has(name) && (await listImageFiles(join(dir, name))).length > 0) map.set(name, join(dir, name));
  }
  return map;
}
