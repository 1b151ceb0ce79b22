/**
 * bench:lifecycle's stand-in job body (a JobBodyModule): keeps one core busy
 * with floating-point work, as a training job would, until the file named by
 * LAFITED_BENCH_STOP exists (or the job is cancelled), then writes a copy of
 * the active bundle under a new version. Replace with the real bodies
 * (src/lifecycle/jobs/) for job-time figures.
 */
import { access } from "node:fs/promises";
import { filesOf, readBundle, writeBundle } from "../../src/model/bundle.js";
import type { JobBody, JobBodyModule } from "../../src/lifecycle/job-body.js";

const body: JobBody = async (ctx) => {
  const stop = process.env.LAFITED_BENCH_STOP ?? "";
  let rounds = 0;
  let x = 0;
  while (!ctx.signal.aborted && !(await access(stop).then(() => true, () => false))) {
    const until = performance.now() + 50;
    while (performance.now() < until) for (let i = 0; i < 10_000; i++) x = Math.sin(x + i) * 1.0000001;
    rounds++;
    if (rounds % 20 === 0) ctx.progress(rounds, 0, `burning (${rounds} rounds)`);
  }
  const b = await readBundle(ctx.activeBundleDir);
  const { files: _f, ...m } = b.manifest;
  await writeBundle(ctx.outDir, { ...m, version: `${m.version}-burn${Date.now().toString(36)}` }, filesOf(b));
  return { summary: { rounds, x } };
};

export const bodies: JobBodyModule["bodies"] = { refresh: body, retrain: body };
