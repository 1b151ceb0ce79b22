/**
 * `npm start` runs the script through `sh -c`, and sh does not pass signals
 * on: a supervisor that sends SIGTERM to npm must still stop the daemon, or a
 * stray daemon keeps the port (issue 7). The script execs the daemon so it
 * receives the signal npm forwards.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fitSmallKnnBundle, REPO_ROOT } from "../support/knn-bundle.js";
import { spawnDaemon } from "../server/support/daemon-process.js";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

test("SIGTERM to the `npm start` process stops the daemon under it: nothing is left listening", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-npm-start-"));
  try {
    const { bundle } = await fitSmallKnnBundle(dir);
    const { child: npm, port, exit: exited, log } = await spawnDaemon(["start", "--silent"], { HOME: process.env.HOME ?? dir, LAFITED_BUNDLE: bundle, LAFITED_DATA_DIR: join(dir, "state") }, { command: "npm", cwd: REPO_ROOT });
    assert.ok(port > 0);
    assert.equal(await portOpen(port), true);
    npm.kill("SIGTERM");
    await exited;
    // The daemon drains and exits on its own clock: give it its grace period, then nothing may listen.
    const deadline = Date.now() + 15_000;
    while ((await portOpen(port)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await portOpen(port), false, `port ${port} still open after npm exited:\n${log()}`);
    assert.match(log(), /"msg":"stopped"/, "the daemon itself shut down in order");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
