/**
 * The job bodies' edges: cancellation leaves no candidate, a bundle without a
 * diffusion model is refused by retrain with a clear message, bad files in
 * the accepted list are skipped, and a bundle from before coverage was stored
 * is refreshed with a radius estimated from its bank that bounds the true one
 * from above (see coverage-space.ts).
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile, cp } from "node:fs/promises";
import { join } from "node:path";
import { refreshMemoryBank, retrainDiffusion } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { ErrorCode, LafiteError } from "../../../src/util/errors.js";
import { acceptedFrom, jobContext, knnBundleAndShiftedFrames } from "./support.js";

let dir = "";
let base = "";
let shifted = "";
before(async () => {
  ({ dir, base, shifted } = await knnBundleAndShiftedFrames("lafite-jobs-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("a cancelled refresh throws CANCELLED and writes no candidate", async () => {
  const ac = new AbortController();
  ac.abort();
  const out = join(dir, "cancelled");
  await assert.rejects(refreshMemoryBank(jobContext("refresh", base, out, await acceptedFrom(shifted, 4), undefined, ac.signal)), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.CANCELLED);
  await assert.rejects(stat(out), /ENOENT/);
});

test("retrain refuses a bundle without a diffusion model, naming the refresh job instead", async () => {
  await assert.rejects(retrainDiffusion(jobContext("retrain", base, join(dir, "never"), await acceptedFrom(shifted, 4))), (e: unknown) => e instanceof LafiteError && e.code === ErrorCode.BAD_BUNDLE && /no diffusion model.*refresh job/.test(e.message));
});

test("a frame whose content changed since it was accepted, or that is gone, is skipped and recorded", async () => {
  const accepted = await acceptedFrom(shifted, 6);
  const bad = [{ ...accepted[0]!, sha256: "0".repeat(64) }, { path: join(dir, "gone.png"), sha256: "1".repeat(64) }, ...accepted.slice(1)];
  const out = join(dir, "with-bad");
  const { summary } = await refreshMemoryBank(jobContext("refresh", base, out, bad, { maxAdditions: 50 }));
  assert.equal(summary.skippedFrames, 2);
  assert.ok(Number(summary.added) <= 50);
  const m = (await readBundle(out)).manifest;
  assert.deepEqual(m.dataSnapshot?.accepted.slice(0, 2).map((a) => a.use), ["skipped", "skipped"]);
  assert.ok(m.dataSnapshot?.accepted.slice(2).every((a) => a.use === "bank" || a.use === "holdout"));
});

test("a bundle from before coverage was stored: refreshed with the bank's closest-pair radius, an upper bound on fit's radius", async () => {
  const old = join(dir, "old");
  await cp(base, old, { recursive: true });
  const manifestPath = join(old, "manifest.json");
  const m = JSON.parse(await readFile(manifestPath, "utf8")) as { memory: Record<string, unknown> };
  const stored = m.memory.coverageRadius as number;
  delete m.memory.coverageRadius;
  delete m.memory.projection;
  await writeFile(manifestPath, JSON.stringify(m));
  const out = join(dir, "from-old");
  const { summary } = await refreshMemoryBank(jobContext("refresh", old, out, await acceptedFrom(shifted, 4)));
  assert.equal(summary.coverageRadiusSource, "estimated from the bank");
  const estimate = summary.coverageRadius as number;
  assert.ok(estimate >= stored * (1 - 1e-4) && estimate < stored * 2, `estimate ${estimate} vs fit's ${stored}`);
  const written = (await readBundle(out)).manifest;
  assert.equal(written.memory.coverageRadius, estimate, "the candidate stores it for the next refresh");
});

test("a bank fitted to its cap (memory.maxCoresetSize) still takes new rows: up to memory.refreshHeadroom past the cap, then consolidated back to that ceiling per class; a bundle without row classes stops at the ceiling and says why", async () => {
  const accepted = await acceptedFrom(shifted, 6);
  const refreshAtCap = async (name: string, headroom: number | undefined, options: { dropRowClasses?: boolean; maxAdditions?: number } = {}) => {
    const capped = join(dir, `capped-${name}`);
    await cp(base, capped, { recursive: true });
    const manifestPath = join(capped, "manifest.json");
    const m = JSON.parse(await readFile(manifestPath, "utf8")) as { memory: { coresetSize: number; rowClasses?: unknown }; config: { memory: Record<string, unknown> } };
    // As a big data set's fit leaves it: the bank is exactly at the cap.
    m.config.memory.maxCoresetSize = m.memory.coresetSize;
    if (headroom === undefined) delete m.config.memory.refreshHeadroom;
    else m.config.memory.refreshHeadroom = headroom;
    if (options.dropRowClasses) delete m.memory.rowClasses;
    await writeFile(manifestPath, JSON.stringify(m));
    const warnings: string[] = [];
    const out = join(dir, `capped-${name}-out`);
    const ctx = jobContext("refresh", capped, out, accepted, { maxAdditions: options.maxAdditions ?? 100_000 });
    const log = { ...ctx.log, warn: (_: unknown, msg?: string) => void warnings.push(msg ?? "") };
    const { summary } = await refreshMemoryBank({ ...ctx, log: log as typeof ctx.log });
    return { size: m.memory.coresetSize, summary, warnings, out: (await readBundle(out)).manifest, outDir: out };
  };
  // Headroom 0.1: the bank grows to ⌊1.1 × cap⌋ at most, then is consolidated back to it.
  const some = await refreshAtCap("tenth", 0.1);
  const ceiling = Math.floor(some.size * 1.1);
  assert.equal(some.summary.bankCeiling, ceiling);
  assert.ok(Number(some.summary.added) > ceiling - some.size, `the shifted frames need more than the headroom (${String(some.summary.added)} added)`);
  const con = some.summary.consolidation as { dropped: number; addedKept: number; classRows: Record<string, { before: number; after: number }> };
  assert.equal(some.out.memory.coresetSize, ceiling);
  assert.equal(con.dropped, some.size + Number(some.summary.added) - ceiling);
  assert.ok(con.addedKept > 0 && con.addedKept <= Number(some.summary.added));
  // One class (hex_nut), so it keeps all of the ceiling; the file holds one class per row.
  assert.deepEqual(con.classRows, { hex_nut: { before: some.size + Number(some.summary.added), after: ceiling } });
  const classes = new Int32Array((await readFile(join(some.outDir, some.out.memory.rowClasses!.file))).buffer.slice(0));
  assert.equal(classes.length, ceiling);
  assert.deepEqual(some.out.memory.rowClasses!.names, ["hex_nut"]);
  // No headroom: every refresh is consolidated straight back to the cap.
  const none = await refreshAtCap("none", 0);
  assert.ok(Number(none.summary.added) > 0);
  assert.equal(none.out.memory.coresetSize, none.size);
  // A bundle from before row classes cannot be consolidated: it stops at the ceiling (0.25 by default, before the key) and warns once there.
  const old = await refreshAtCap("old", undefined, { dropRowClasses: true });
  assert.equal(old.summary.bankCeiling, Math.floor(old.size * 1.25));
  assert.ok(Number(old.summary.added) > 0 && old.out.memory.coresetSize <= Math.floor(old.size * 1.25));
  assert.equal(old.out.memory.rowClasses, undefined);
  const stuck = await refreshAtCap("old-none", 0, { dropRowClasses: true });
  assert.equal(stuck.summary.added, 0);
  assert.ok(stuck.warnings.some((w) => /at its ceiling.*cannot be consolidated/.test(w)), stuck.warnings.join("; "));
});
