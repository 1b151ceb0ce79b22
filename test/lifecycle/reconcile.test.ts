/**
 * Restart recovery is the normal start path: a job left running by a dead
 * owner becomes visibly abandoned with its output deleted, a model folder no
 * record names is removed, the ACTIVE pointer follows the database, and
 * image files without a committed row are swept.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeFixture } from "./support/lifecycle-fixture.js";
import { writeFakeBundle } from "./support/fake-bundle.js";

test("a restart abandons a dead owner's job, deletes partial output and unregistered folders, and repairs the pointer", async () => {
  const f = await makeFixture();
  try {
    const lc = f.lifecycle;
    // A pid that surely is dead: a child that has already exited.
    const deadPid = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const job = lc.jobs.start({ kind: "retrain", trigger: "api", ownerPid: deadPid, parentVersion: "v1", snapshot: { accepted: [], sha256: "" } });
    await mkdir(job.outDir, { recursive: true });
    await writeFile(join(job.outDir, "half-written.onnx"), "partial");
    await writeFakeBundle(join(f.dataDir, "models", "orphan-v9"), "orphan-v9");
    await writeFile(join(f.dataDir, "models", "ACTIVE"), "something-else\n");
    await mkdir(join(f.dataDir, "frames", "ab"), { recursive: true });
    await writeFile(join(f.dataDir, "frames", "ab", "ab12.png"), "never committed");

    const again = await f.reopen();
    const rec = again.jobs.get(job.id)!;
    assert.equal(rec.state, "abandoned");
    assert.match(rec.message, new RegExp(`owner pid ${deadPid} stopped`));
    assert.ok(rec.finishedAt);
    assert.equal(again.jobs.running(), undefined);
    await assert.rejects(access(job.outDir));
    await assert.rejects(access(join(f.dataDir, "models", "orphan-v9")));
    await access(join(f.dataDir, "models", "v1", "manifest.json"));
    assert.equal((await readFile(join(f.dataDir, "models", "ACTIVE"), "utf8")).trim(), "v1");
    await assert.rejects(access(join(f.dataDir, "frames", "ab", "ab12.png")));
  } finally {
    await f.cleanup();
  }
});
