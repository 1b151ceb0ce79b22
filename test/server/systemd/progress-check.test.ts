import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgressCheck, Watchdog, watchdogIntervalMs } from "../../../src/server/systemd/watchdog.js";
import { silentLogger } from "../../../src/util/log.js";

test("the watchdog pings while frames complete or nothing waits, and withholds only when work is pending and nothing completed", () => {
  const c = new ProgressCheck();
  assert.equal(c.check({ pending: 0, completed: 0 }), "ping", "idle");
  assert.equal(c.check({ pending: 3, completed: 0 }), "ping", "work just arrived");
  assert.equal(c.check({ pending: 3, completed: 5 }), "ping", "frames completed");
  assert.equal(c.check({ pending: 2, completed: 5 }), "withheld", "pending at both ticks, none completed");
  assert.equal(c.check({ pending: 2, completed: 5 }), "withheld");
  assert.equal(c.check({ pending: 0, completed: 5 }), "ping", "the queue drained (cancelled frames leave it too)");
  assert.equal(c.check({ pending: 1, completed: 6 }), "ping");
});

test("WATCHDOG_USEC/WATCHDOG_PID give half the period for this process only", () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "60000000" }, 42), 30_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "60000000", WATCHDOG_PID: "42" }, 42), 30_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "60000000", WATCHDOG_PID: "7" }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: "0" }, 42), undefined);
});

test("a tick sends WATCHDOG=1 only on progress", async () => {
  const sent: string[] = [];
  let progress = { pending: 1, completed: 0 };
  const w = new Watchdog({ intervalMs: 1000, log: silentLogger(), progress: () => progress, notifier: { notify: async (...a) => (sent.push(a.join(" ")), true) } });
  assert.equal(await w.tick(), "ping");
  assert.equal(await w.tick(), "withheld");
  progress = { pending: 1, completed: 1 };
  assert.equal(await w.tick(), "ping");
  assert.deepEqual(sent, ["WATCHDOG=1", "WATCHDOG=1"]);
});
