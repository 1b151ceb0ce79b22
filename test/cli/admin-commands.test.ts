/**
 * The admin CLI against a real daemon (in this process, fake models): the
 * command names and output lines other tools script against.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startAdminHarness } from "../server/support/admin-harness.js";
import { grayPng } from "../server/support/fake-detector.js";

const run = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../bin/lafite.js", import.meta.url));

async function lafite(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("accept prints one line per item and exits 1 when any item was refused", async () => {
  const h = await startAdminHarness({ config: { ledger: { dailyQuota: 0, scoreCeiling: 2, holdoutShare: 0 } } });
  try {
    const file = join(h.dataDir, "..", "frame.png");
    await writeFile(file, await grayPng(50));
    await h.client.detectOne({ frameId: "cam-9", image: { case: "encoded", value: await grayPng(70) } });
    const r = await lafite(["accept", "--server", h.address, file, "--frame-id", "cam-9", "--frame-id", "nope", "--operator", "ana"]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n").map((l) => l.split("\t"));
    assert.deepEqual(lines.map((l) => [l[0], l[1]]), [[file, "accepted"], ["cam-9", "accepted"], ["nope", "refused"]]);
    assert.match(lines[2]![3]!, /not among the recently scored frames/);
    const again = await lafite(["accept", "--server", h.address, file]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /\tduplicate\t1\t/);
    const defect = await lafite(["confirm-defect", "--server", h.address, "--frame-id", "cam-9"]);
    assert.equal(defect.code, 1);
    assert.match(defect.stdout, /cam-9\trefused\t0\tthis image is already recorded as an accepted normal/);
  } finally {
    await h.stop();
  }
});

test("job run --wait prints the version and decision; models, jobs, activate and rollback work through the daemon", async () => {
  const h = await startAdminHarness({ config: { jobs: { refresh: { schedule: null, promotion: "auto" }, retrain: { schedule: null, promotion: "manual" }, nice: 10, intraOpThreads: 1, heartbeatMs: 60_000 } } });
  try {
    const job = await lafite(["job", "run", "refresh", "--server", h.address, "--wait"]);
    assert.equal(job.code, 0, job.stderr);
    const m = /job 1 refresh succeeded: version (\S+); gate passed; decision: activated/.exec(job.stdout);
    assert.ok(m, job.stdout);
    const version = m[1]!;
    assert.match(job.stdout, /false alarms on .*: ok/);

    const models = JSON.parse((await lafite(["models", "--server", h.address, "--json"])).stdout) as { active: string; models: { version: string; state: string; parent: string | null; gate: { passed: boolean } | null }[] };
    assert.equal(models.active, version);
    assert.deepEqual(models.models.map((x) => [x.version, x.state, x.parent]), [[version, "active", "v1"], ["v1", "previous", null]]);
    assert.equal(models.models[0]!.gate?.passed, true);
    const table = await lafite(["models", "--server", h.address]);
    assert.match(table.stdout, /^VERSION\s+STATE/);

    const jobs = await lafite(["jobs", "--server", h.address]);
    assert.match(jobs.stdout, new RegExp(`^1\\s+refresh\\s+succeeded\\s+api\\s+.*${version}\\s+activated$`, "m"));

    const rb = await lafite(["rollback", "--server", h.address]);
    assert.equal(rb.stdout.trim(), `active v1 (previous ${version})`);
    const act = await lafite(["activate", "--server", h.address, version]);
    assert.equal(act.stdout.trim(), `active ${version} (previous v1)`);
    const bad = await lafite(["activate", "--server", h.address, "no-such-version"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /NOT_FOUND: no model version 'no-such-version'/);
  } finally {
    await h.stop();
  }
});
