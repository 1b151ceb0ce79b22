/**
 * A daemon process with the fake detector, for process-level tests (SIGTERM,
 * SIGHUP): `node fake-daemon.js` with LAFITED_* variables for the config and
 * FAKE_DELAY_MS for per-frame work. A frame with class tag "freeze" never
 * finishes (the watchdog test freezes the pipeline with it). Not a test file
 * itself.
 */
import { loadConfig } from "../../../src/config/load.js";
import { runDaemon } from "../../../src/server/daemon.js";
import { createLogger } from "../../../src/util/log.js";
import { FakeDetector } from "./fake-detector.js";
import type { Detector } from "../../../src/pipeline/types.js";

/** `detector`, except that a frame tagged "freeze" hangs forever, as a wedged pipeline would. */
function freezable(detector: FakeDetector): Detector {
  return {
    info: detector.info,
    detect: (frame, options = {}) => (options.classTag === "freeze" ? new Promise<never>(() => {}) : detector.detect(frame, options)),
    close: () => detector.close(),
  };
}

if (process.env.LAFITED_FAKE_DAEMON === "1") {
  const read = () => loadConfig({ env: process.env });
  const config = read();
  let loads = 0;
  const delayMs = Number(process.env.FAKE_DELAY_MS ?? "0");
  runDaemon({
    config,
    log: createLogger({ level: config.log.level }),
    provider: async () => freezable(new FakeDetector({ delayMs, version: `fake-${++loads}` })),
    reloadConfig: read,
    env: process.env,
  }).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
