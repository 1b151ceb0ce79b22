import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LafitedClient } from "../../../src/server/client.js";
import { spawnDaemon } from "../support/daemon-process.js";
import { grayPng } from "../support/fake-detector.js";
import { NOTIFY_MISSING, PYTHON_MISSING, startNotifySocket } from "./fake-notify-socket.js";
import { until } from "../../support/until.js";

/** The watchdog works in seconds: a longer wait, polled less often. */
const untilSlow = (cond: () => boolean) => until(cond, 15_000, 20);

const DAEMON = fileURLToPath(new URL("../support/fake-daemon.js", import.meta.url));
const skip = PYTHON_MISSING || NOTIFY_MISSING;

test("under a (fake) systemd notify socket: READY=1 once serving, WATCHDOG=1 pings, which stop when the pipeline freezes", { skip }, async () => {
  const socket = await startNotifySocket();
  // WatchdogSec=0.4 s: a tick every 200 ms, so the test sees several quickly.
  const daemon = await spawnDaemon([DAEMON], { LAFITED_FAKE_DAEMON: "1", NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: "400000" });
  const client = new LafitedClient(`127.0.0.1:${daemon.port}`);
  const pings = () => socket.messages.filter((m) => m === "WATCHDOG=1").length;
  const withheld = () => daemon.log().split("\n").filter((l) => l.includes("watchdog ping withheld")).length;
  try {
    await untilSlow(() => socket.messages.some((m) => m.startsWith("READY=1")));
    assert.match(socket.messages.find((m) => m.startsWith("READY=1"))!, new RegExp(`^READY=1\\|STATUS=serving model fake-1 on port ${daemon.port}\\|?$`));
    await untilSlow(() => pings() >= 3);
    // Frames complete: the pings go on.
    const png = await grayPng(50);
    await client.detectOne({ frameId: "a", image: { case: "encoded", value: png } });
    const before = pings();
    await untilSlow(() => pings() >= before + 2);
    assert.equal(withheld(), 0);

    // Freeze the pipeline: this frame never finishes.
    void client.detectOne({ frameId: "stuck", classTag: "freeze", image: { case: "encoded", value: png } }).catch(() => undefined);
    await untilSlow(() => withheld() >= 2);
    const atSecond = pings();
    await untilSlow(() => withheld() >= 5);
    assert.equal(pings(), atSecond, "no WATCHDOG=1 while the pipeline is stuck, so systemd would restart the daemon");
    assert.ok(!socket.messages.slice(1).some((m) => m.startsWith("READY=1")), "READY=1 is sent once");
  } finally {
    client.close();
    daemon.child.kill("SIGKILL");
    await daemon.exit;
    socket.close();
  }
});
