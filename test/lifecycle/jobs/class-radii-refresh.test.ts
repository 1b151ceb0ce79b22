/**
 * A memory-bank refresh covers each accepted frame to its own class's
 * radius (where the class's held-out normals' farthest slices typically lie),
 * not only to fit's covering radius, the largest over all classes: checked
 * against a brute-force search of the candidate's bank.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { openActiveModel } from "../../../src/lifecycle/jobs/active-model.js";
import { featuresOfFiles } from "../../../src/lifecycle/jobs/frame-features.js";
import { projectRowsWith } from "../../../src/lifecycle/jobs/continue-k-center.js";
import { bytesToFloat32, readBundle, type BundleManifest } from "../../../src/model/bundle.js";
import { coresetProjection } from "../../../src/model/memory/coreset.js";
import { toRows } from "../../../src/model/feature-stats.js";
import { acceptedFrom, fitBundle, jobContext, makeData } from "./support.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-class-radii-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Per accepted frame (by path), the largest distance of its slices to the nearest row of `bankDir`'s coreset, by brute force in the selection's space. */
async function farthestToBank(bankDir: string, paths: readonly string[]): Promise<number[]> {
  const model = await openActiveModel(bankDir);
  try {
    const m = model.manifest;
    const { c, h, w } = m.features;
    const hw = h * w;
    const stored = m.memory.projection!;
    const projection = stored.file ? bytesToFloat32(model.bundle.file(stored.file)) : coresetProjection(stored.seed, c, stored.dim);
    const bank = projectRowsWith(model.coreset, m.memory.coresetSize, c, projection);
    const feats = await featuresOfFiles(model, paths.map((path) => ({ path })));
    const tmp = new Float32Array(hw * c);
    return feats.map((f) => {
      assert.ok(f.ok);
      const pts = projectRowsWith(toRows(f.map, tmp), hw, c, projection).points;
      let worst = 0;
      for (let p = 0; p < hw; p++) {
        let best = Infinity;
        for (let r = 0; r < m.memory.coresetSize; r++) {
          let s = 0;
          for (let t = 0; t < bank.d; t++) s += (pts[p * bank.d + t]! - bank.points[r * bank.d + t]!) ** 2;
          if (s < best) best = s;
        }
        worst = Math.max(worst, best);
      }
      return Math.sqrt(worst);
    });
  } finally {
    await model.release();
  }
}

test("refreshMemoryBank covers every accepted bank frame to its class's radius, where fit's covering radius alone would add nothing", async () => {
  const data = join(dir, "normal");
  const more = join(dir, "more");
  const classes = ["hex_nut", "fabric"];
  await makeData(data, 1, "normal", { train: 12, testGood: 0, testDefect: 0 }, classes);
  await makeData(more, 3, "normal", { train: 5, testGood: 0, testDefect: 0 }, classes);
  const base = join(dir, "base");
  await fitBundle(data, base, join(dir, "cache"), { scoring: { mode: "knn" }, diffusion: { preset: "none" }, threshold: { holdout: 0.25 } });
  // Fit's radius is the largest over its classes' selections: on the realistic suite the varied-size tiles put it past every other
  // class's held-out normals. Here it is raised past every frame's farthest slice, so fit's radius alone would add nothing.
  const path = join(base, "manifest.json");
  const raw = JSON.parse(await readFile(path, "utf8")) as { memory: { coverageRadius: number } };
  raw.memory.coverageRadius = 3 * raw.memory.coverageRadius;
  await writeFile(path, JSON.stringify(raw, null, 2));
  const accepted = await acceptedFrom(more, 10);
  const out = join(dir, "candidate");
  const ctx = jobContext("refresh", base, out, accepted);
  await refreshMemoryBank(ctx);
  // The held-out normals it reads for the radii show progress, up to all of them (3 of each class's 12 frames).
  const read = ctx.reports.filter((r) => r.message === "refresh: features of fit's held-out normals");
  assert.ok(read.length > 0);
  assert.deepEqual([read.at(-1)!.done, read.at(-1)!.total], [6, 6]);

  const m = (await readBundle(out)).manifest as BundleManifest & { metrics: { refresh: { classRadii: Record<string, number>; coverageRadius: number; added: number; stoppedBy: string } } };
  const { classRadii, coverageRadius, added, stoppedBy } = m.metrics.refresh;
  assert.deepEqual(Object.keys(classRadii).sort(), [...classes].sort(), "a radius for every class with held-out normals");
  assert.equal(stoppedBy, "covered");
  const bankFrames = accepted.filter((f) => m.dataSnapshot!.accepted.find((a) => a.sha256 === f.sha256)!.use === "bank");
  assert.ok(bankFrames.length >= 6, `${bankFrames.length} bank frames`);
  const own = (f: (typeof accepted)[number]) => Math.min(classRadii[f.classTag!]!, coverageRadius);

  // Before: every bank frame within fit's radius (the old rule added nothing), some beyond its class's.
  const before = await farthestToBank(base, bankFrames.map((f) => f.path));
  const shown = `farthest slices ${before.map((v) => v.toFixed(2))}, radii ${JSON.stringify(classRadii)}, fit ${coverageRadius.toFixed(2)}`;
  assert.ok(before.every((v) => v <= coverageRadius), shown);
  assert.ok(bankFrames.some((f, i) => before[i]! > own(f)), shown);
  assert.ok(added > 0);
  // After: every bank frame lies within its own radius of the new bank (rounding of the float32 search aside).
  const after = await farthestToBank(out, bankFrames.map((f) => f.path));
  bankFrames.forEach((f, i) => assert.ok(after[i]! <= own(f) * (1 + 1e-4), `${f.path}: ${after[i]} > ${own(f)}`));

  // Job option coverage: fit, the rule before class radii, adds nothing from the same frames; an unknown rule is refused by name.
  const fitRule = join(dir, "fit-rule");
  const summary = (await refreshMemoryBank(jobContext("refresh", base, fitRule, accepted, { coverage: "fit" }))).summary as { added: number; coverage: string };
  assert.deepEqual([summary.added, summary.coverage], [0, "fit"]);
  await assert.rejects(refreshMemoryBank(jobContext("refresh", base, join(dir, "bad"), accepted, { coverage: "frame" })), /job option coverage must be one of class, fit, got "frame"/);
});
