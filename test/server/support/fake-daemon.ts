/**
 * A daemon process with the fake detector, for process-level tests (SIGTERM,
 * SIGHUP): `node fake-daemon.js` with LAFITED_* variables for the config and
 * FAKE_DELAY_MS for per-frame work. Not a test file itself.
 */
import { loadConfig } from "../../../src/config/load.js";
import { runDaemon } from "../../../src/server/daemon.js";
import { createLogger } from "../../../src/util/log.js";
import { FakeDetector } from "./fake-detector.js";

if (process.env.LAFITED_FAKE_DAEMON === "1") {
  const read = () => loadConfig({ env: process.env });
  const config = read();
  let loads = 0;
  const delayMs = Number(process.env.FAKE_DELAY_MS ?? "0");
  runDaemon({
    config,
    log: createLogger({ level: config.log.level }),
    provider: async () => new FakeDetector({ delayMs, version: `fake-${++loads}` }),
    reloadConfig: read,
  }).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
