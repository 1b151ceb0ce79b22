/**
 * Issue 9's drift scenario end to end, through the real daemon and CLI with
 * the real job bodies: a base model fitted on the normal demo flags shifted
 * but normal frames; an operator accepts some of them; the refresh job adds
 * them to the memory bank, passes the gate and is promoted, and false alarms
 * on OTHER shifted good frames drop while shifted defects are still caught;
 * a retrain job then runs on the same frames; rollback brings the first
 * version back. One Detect stream stays open throughout and loses nothing.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesizeDataset } from "../../src/image/synth/index.js";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";
import { LafitedClient } from "../../src/server/client.js";
import { spawnDaemon, type DaemonProcess } from "../server/support/daemon-process.js";
import { CLI } from "../support/knn-bundle.js";

const run = promisify(execFile);
let dir = "";
let daemon: DaemonProcess | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-drift-"));
});

after(async () => {
  if (daemon) {
    daemon.child.kill("SIGTERM");
    await daemon.exit;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

const cli = async (...args: string[]) => (await run(process.execPath, [CLI, ...args], { timeout: 300_000 })).stdout;

test("accept shifted false alarms → refresh (promoted, fewer false alarms, defects caught) → retrain → rollback, one Detect stream open throughout", async () => {
  const base = join(dir, "base");
  const shifted = join(dir, "shifted");
  const classes = ["hex_nut"];
  await synthesizeDataset({ out: base, seed: 21, classes, trainPerClass: 16, testGoodPerClass: 1, testPerDefect: 1 });
  await synthesizeDataset({ out: shifted, seed: 22, classes, trainPerClass: 30, testGoodPerClass: 1, testPerDefect: 3, variant: "shifted" });
  // One model threshold, set by fit's 1 held-out frame, so the base model false-alarms on the shifted frames (per class, hex_nut
  // would also be calibrated on its bank frames left out, which already tolerates much of the shift).
  await writeFile(join(dir, "model.yaml"), "diffusion: { preset: tiny, epochs: 2 }\ntuning: { perClass: 6, taus: [20], ks: [3] }\nthreshold: { perClass: false }\n");
  await cli("fit", "--data", base, "--out", join(dir, "bundle"), "--config", join(dir, "model.yaml"), "--cache", join(dir, "cache"));
  daemon = await spawnDaemon([CLI, "serve"], { LAFITED_BUNDLE: join(dir, "bundle"), LAFITED_DATA_DIR: join(dir, "state") });
  const server = `127.0.0.1:${daemon.port}`;
  const client = new LafitedClient(server);

  // A line keeps one stream open for the whole scenario.
  const [shiftedClass] = await scanDataset(shifted);
  const frame = await readFile(shiftedClass!.train[0]!);
  const stream = client.openDetect();
  const answers: string[] = [];
  const versions = new Set<string>();
  const reading = (async () => {
    for await (const r of stream) {
      answers.push(r.frameId);
      if (r.error === undefined) versions.add(r.modelVersion);
    }
  })();
  let sent = 0;
  const send = async (n: number) => {
    for (let i = 0; i < n; i++) await stream.send({ frameId: `line-${sent++}`, image: { case: "encoded", value: frame } });
  };

  try {
    const verdicts = async (files: readonly string[]) => {
      const out = await cli("detect", "--server", server, ...files).catch((e: { stdout: string }) => e.stdout);
      return out.trim().split("\n").map((l) => l.split("\t")[2]);
    };
    const train = shiftedClass!.train;
    const toAccept = train.slice(0, 12);
    const others = train.slice(12);
    const defects = shiftedClass!.test.filter((t) => t.anomalous).map((t) => t.path);
    const falseAlarms = async () => (await verdicts(others)).filter((v) => v === "NG").length;
    const caught = async () => (await verdicts(defects)).filter((v) => v === "NG").length;

    await send(5);
    const faBefore = await falseAlarms();
    const caughtBefore = await caught();
    assert.ok(faBefore >= others.length / 3, `the base model should flag many shifted good frames (${faBefore}/${others.length}) for this test to mean anything`);

    const accepted = await cli("accept", "--server", server, ...toAccept, "--operator", "drift-test", "--force");
    assert.equal(accepted.trim().split("\n").filter((l) => l.split("\t")[1] === "accepted").length, toAccept.length, accepted);
    await send(5);

    const refresh = await cli("job", "run", "refresh", "--server", server, "--wait");
    assert.match(refresh, /refresh succeeded: version \S+; gate passed; decision: activated/, refresh);
    await send(5);
    const faAfter = await falseAlarms();
    const caughtAfter = await caught();
    assert.ok(faAfter < faBefore, `false alarms on other shifted good frames: ${faBefore} → ${faAfter}`);
    assert.ok(caughtAfter >= caughtBefore - 1, `shifted defects caught: ${caughtBefore} → ${caughtAfter} of ${defects.length}`);

    const retrain = await cli("job", "run", "retrain", "--server", server, "--wait");
    assert.match(retrain, /retrain succeeded: version \S+; gate (passed|failed)/, retrain);
    await send(5);

    const baseVersion = (JSON.parse(await readFile(join(dir, "bundle", "manifest.json"), "utf8")) as { version: string }).version;
    const before = JSON.parse(await cli("models", "--server", server, "--json")) as { active: string };
    assert.notEqual(before.active, baseVersion, "the refreshed version is active (retrain waits for a manual activation)");
    await cli("rollback", "--server", server);
    const after = JSON.parse(await cli("models", "--server", server, "--json")) as { active: string };
    assert.equal(after.active, baseVersion, "rollback makes the first version active again");
    await send(5);
  } finally {
    stream.end();
    await reading;
    client.close();
  }
  assert.deepEqual(answers, Array.from({ length: sent }, (_, i) => `line-${i}`), "every frame of the open stream answered once, in order");
  assert.ok(versions.size >= 2, `the open stream saw the model switch (versions ${[...versions].join(", ")})`);
  assert.equal((await stream.status).code, 0);
});
