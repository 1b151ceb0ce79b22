/**
 * scripts/gpu-check.sh on this CPU-only box, made cheap by its environment
 * (tiny preset, five training images): every stage asks for cuda, falls
 * back, and the report says so with the reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";
import { REPO_ROOT } from "../support/knn-bundle.js";

const run = promisify(execFile);

test("gpu-check falls back to the CPU and says cuda was requested but unavailable, for fit, training, eval and bench", async () => {
  const { stdout } = await run("bash", [join(REPO_ROOT, "scripts", "gpu-check.sh")], {
    cwd: REPO_ROOT,
    env: { ...process.env, GPU_CHECK_PRESET: "tiny", GPU_CHECK_TRAIN: "5" },
    timeout: 300_000,
  });
  for (const stage of ["fit: backbone, scoring", "fit: diffusion training", "eval", "bench:train"]) {
    const line = stdout.split("\n").find((l) => l.startsWith(`execution provider (${stage}): `));
    assert.ok(line, `no provider line for ${stage} in:\n${stdout}`);
    assert.match(line, /: cpu \(cuda requested but unavailable: .+\)$/, line);
  }
  assert.match(stdout, /gpu-check: NOT all on CUDA/);
  assert.match(stdout, /gpu-check: eval \(img AUROC.*\): \d/);
  assert.match(stdout, /samples\/s/);
});
