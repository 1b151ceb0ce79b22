/** Shared bits of the synth tests: temp folders and reading PNGs back as exact pixels. */
import { readdir } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { tempDir as tempDirIn } from "../../support/temp-dir.js";

export async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  return tempDirIn(t, "lafite-synth-");
}

/** Pixels as stored: channel count from the PNG header, not sharp's default widening to RGB. */
export async function readPng(file: string): Promise<{ width: number; height: number; channels: number; data: Buffer }> {
  const meta = await sharp(file).metadata();
  const channels = meta.channels ?? 0;
  let pipeline = sharp(file);
  if (channels === 1) pipeline = pipeline.extractChannel(0);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: info.channels, data };
}

/** Every file under `root`, as sorted forward-slash paths relative to it. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}
