/**
 * Issue 9 part 8 at small scale, diffusion: a lafite model (tiny U-Net)
 * fitted on the normal demo; the cron order refresh → retrain on 20 accepted
 * shifted good frames. The retrained candidate keeps the refreshed bank,
 * changes only the denoiser, fine-tunes from the parent's weights, and keeps
 * false alarms on other shifted good frames down and defect AUROC up.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank, retrainDiffusion } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { readUNetModel } from "../../../src/model/diffusion/index.js";
import { trainingFilesOf } from "../../../src/lifecycle/jobs/training-features.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { acceptedFrom, fitBundle, jobContext, makeData, measure } from "./support.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-retrain-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("refresh then retrainDiffusion on 20 accepted shifted good frames: fine-tuned from the parent, false alarms down, defect AUROC kept", async (t) => {
  const normal = join(dir, "normal");
  const shifted = join(dir, "shifted");
  const base = join(dir, "base");
  await makeData(normal, 1, "normal", { train: 12, testGood: 0, testDefect: 0 });
  await makeData(shifted, 2, "shifted", { train: 7, testGood: 6, testDefect: 2 });
  await fitBundle(normal, base, join(dir, "cache"), { diffusion: { preset: "tiny", epochs: 3, replayMB: 4 } });
  const before = await measure(base, shifted);
  const accepted = await acceptedFrom(shifted, 20);
  const refreshed = join(dir, "refreshed");
  await refreshMemoryBank(jobContext("refresh", base, refreshed, accepted));
  const out = join(dir, "retrained");
  const ctx = jobContext("retrain", refreshed, out, accepted, { steps: 12, intraOpThreads: 1 });
  const { summary } = await retrainDiffusion(ctx);
  const after = await measure(out, shifted);
  t.diagnostic(`lafite mode — base: FA ${before.falseAlarmRate.toFixed(3)} AUROC ${before.auroc.toFixed(4)}; refresh→retrain: FA ${after.falseAlarmRate.toFixed(3)} AUROC ${after.auroc.toFixed(4)}; ${String(summary.steps)} steps, loss ${Number(summary.finalLoss).toFixed(4)}`);
  assert.equal(summary.steps, 12);
  assert.ok(after.falseAlarmRate < before.falseAlarmRate / 2, `false alarms ${before.falseAlarmRate} → ${after.falseAlarmRate}`);
  assert.ok(after.auroc >= before.auroc - 0.01, `defect AUROC ${before.auroc} → ${after.auroc}`);

  const parent = await readBundle(refreshed);
  const child = await readBundle(out);
  assert.equal(child.manifest.parentVersion, parent.manifest.version);
  assert.equal(child.manifest.files["coreset.f32"], parent.manifest.files["coreset.f32"], "the bank is untouched");
  assert.equal(child.manifest.files["replay.f16"], parent.manifest.files["replay.f16"]);
  // Fit kept as many float16 maps as the 4 MB cap holds (fewer than the bank's 33 maps at c = 120).
  const { c, h, w } = parent.manifest.features;
  assert.equal(parent.manifest.replay?.count, Math.min(parent.manifest.replay!.ofMaps, Math.floor((4 * 2 ** 20) / (2 * c * h * w))));
  assert.equal(summary.replayMaps, parent.manifest.replay?.count);
  assert.notEqual(child.manifest.files["denoiser.onnx"], parent.manifest.files["denoiser.onnx"]);
  // Fine-tuned, not retrained from scratch: 12 small steps leave the weights close to the parent's.
  const a = readUNetModel(parent.file("denoiser.onnx")).weights;
  const b = readUNetModel(child.file("denoiser.onnx")).weights;
  let num = 0, den = 0;
  for (const [name, wa] of a) {
    const wb = b.get(name)!;
    for (let i = 0; i < wa.length; i++) (num += (wb[i]! - wa[i]!) ** 2), (den += wa[i]! ** 2);
  }
  const rel = Math.sqrt(num / den);
  assert.ok(rel > 0 && rel < 0.2, `relative weight change ${rel}`);

  // A nightly budget (config jobs.retrain.options): minutes alone run until spent, on all of fit's training maps.
  const nightly = await retrainDiffusion(jobContext("retrain", refreshed, join(dir, "nightly"), accepted, { minutes: 0.05, trainingData: "dataset", minSnr: 5, intraOpThreads: 1 }));
  const fitFiles = await trainingFilesOf(parent.manifest, normal);
  assert.equal(nightly.summary.trainingData, "dataset");
  assert.equal(nightly.summary.replayMaps, fitFiles.files.length);
  assert.ok(fitFiles.files.length > parent.manifest.replay!.count, "more maps than the replay sample");
  assert.equal(nightly.summary.stoppedBy, "time budget");
  assert.equal(nightly.summary.stepsPlanned, null);
  assert.equal(nightly.summary.minSnr, 5);
  // Fit's data set gone: the replay sample, with a warning, not a failed night.
  const moved = join(dir, "normal-moved");
  await rename(normal, moved);
  try {
    const fallback = await retrainDiffusion(jobContext("retrain", refreshed, join(dir, "fallback"), accepted, { steps: 2, trainingData: "dataset", intraOpThreads: 1 }));
    assert.equal(fallback.summary.trainingData, "replay");
    assert.equal(fallback.summary.replayMaps, parent.manifest.replay!.count);
  } finally {
    await rename(moved, normal);
  }
  // The same frames sent without class tags: the parent reads each as the class it was made as, and the candidate says so.
  const untaggedOut = join(dir, "untagged");
  const loose = await retrainDiffusion(jobContext("retrain", refreshed, untaggedOut, accepted.map(({ path, sha256 }) => ({ path, sha256 })), { steps: 2, intraOpThreads: 1 }));
  const counts: Record<string, number> = {};
  for (const a of accepted) counts[a.classTag!] = (counts[a.classTag!] ?? 0) + 1;
  assert.deepEqual(loose.summary.untagged, { frames: accepted.length, unread: 0, readAs: counts, contextClass: {} });
  const snapshot = (await readBundle(untaggedOut)).manifest.dataSnapshot!;
  assert.deepEqual(snapshot.accepted.map((a) => [a.classTag, a.readAs]), accepted.map((a) => [undefined, a.classTag]));
  // A misspelt option is refused by name instead of being ignored every night.
  await assert.rejects(
    retrainDiffusion(jobContext("retrain", refreshed, join(dir, "typo"), accepted, { minute: 120 })),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && /unknown option 'minute'/.test(e.message),
  );
  await assert.rejects(
    retrainDiffusion(jobContext("retrain", refreshed, join(dir, "bad-choice"), accepted, { trainingData: "all" })),
    (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.INVALID_INPUT && /trainingData must be one of replay, dataset/.test(e.message),
  );
});
