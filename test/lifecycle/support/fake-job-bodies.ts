/**
 * Fake job bodies (a JobBodyModule) for lifecycle and fault tests: they
 * "train" by copying the active bundle under a new version. The new
 * version's threshold is the active one's times FAKE_BODY_THRESHOLD_FACTOR
 * (default 1), so a test can make a candidate that raises false alarms.
 * FAKE_BODY_FAIL=1 makes the body throw. FAKE_BODY_BLOCK=<file> makes it
 * write its pid to <file> after its first progress report and then wait for
 * its abort signal (a long job to kill the daemon under). FAKE_BODY_HANG=1
 * makes it spin forever without yielding (a hung native call, as the
 * daemon's watchdog sees it).
 */
import { writeFile } from "node:fs/promises";
import { getPriority } from "node:os";
import { writeFakeBundle, fakeManifest, fakeBundleScorer } from "./fake-bundle.js";
import type { JobBody, JobBodyModule } from "../../../src/lifecycle/job-body.js";

const body: JobBody = async (ctx) => {
  if (process.env.FAKE_BODY_FAIL === "1") throw new Error("fake body failure");
  const m = await fakeManifest(ctx.activeBundleDir);
  const factor = Number(process.env.FAKE_BODY_THRESHOLD_FACTOR ?? "1");
  const total = Math.max(1, ctx.accepted.length);
  for (let i = 0; i < total; i++) ctx.progress(i + 1, total, `image ${i + 1}/${total}`);
  if (process.env.FAKE_BODY_HANG === "1") {
    ctx.progress(total, total, "hanging");
    // Let the progress message leave before the event loop stops for good.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;);
  }
  const block = process.env.FAKE_BODY_BLOCK;
  if (block) {
    await writeFile(block, String(process.pid));
    ctx.progress(total, total, "blocked");
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    throw new Error("fake body cancelled");
  }
  const version = `${ctx.kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  await writeFakeBundle(ctx.outDir, version, { threshold: m.threshold.value * factor, dataset: m.provenance.dataset, holdoutFiles: m.provenance.holdoutFiles ?? [] });
  // What the process was given, so tests can check the runner lowered priority and threads.
  return { summary: { kind: ctx.kind, accepted: ctx.accepted.length, acceptedSha256: ctx.accepted.map((a) => a.sha256), parent: m.version, priority: getPriority(), pid: process.pid, intraOpThreads: ctx.intraOpThreads ?? null, options: ctx.options ?? null } };
};

export const bodies: JobBodyModule["bodies"] = { refresh: body, retrain: body };
export const bundleScorer = fakeBundleScorer;
