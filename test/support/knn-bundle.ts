/**
 * A real, small knn-only bundle (no diffusion model) fitted through the CLI
 * on a synthetic hex_nut set: a couple of seconds, so process-level tests can
 * serve real scores without the cost of training a U-Net.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthesizeDataset } from "../../src/image/synth/index.js";

const run = promisify(execFile);
export const CLI = fileURLToPath(new URL("../../../bin/lafite.js", import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface SmallBundle {
  readonly data: string;
  readonly bundle: string;
  readonly goodImage: string;
  readonly defectImage: string;
}

/** Synthesizes the data set under `dir` and fits the bundle there. */
export async function fitSmallKnnBundle(dir: string, seed = 11): Promise<SmallBundle> {
  const data = join(dir, "data");
  await synthesizeDataset({ out: data, seed, classes: ["hex_nut"], trainPerClass: 5, testGoodPerClass: 1, testPerDefect: 1 });
  await writeFile(join(dir, "model.yaml"), "diffusion: { preset: none }\nscoring: { mode: knn }\n");
  const bundle = join(dir, "bundle");
  await run(process.execPath, [CLI, "fit", "--data", data, "--out", bundle, "--config", join(dir, "model.yaml"), "--cache", join(dir, "cache")], { timeout: 120_000 });
  return { data, bundle, goodImage: join(data, "hex_nut", "test", "good", "000.png"), defectImage: join(data, "hex_nut", "test", "scratch", "000.png") };
}
