/**
 * A daemon process with the real lifecycle (SQLite state, child-process job
 * runner, fault points) but fake models, for crash tests:
 *   LAFITED_LIFECYCLE_DAEMON=1 LAFITED_DATA_DIR=… LIFECYCLE_INITIAL=<bundle> node lifecycle-daemon.js
 * plus LAFITED_FAULT=<stage> to die at that stage. Jobs run the fake bodies
 * of fake-job-bodies.ts in a child process. Not a test file itself.
 */
import { loadConfig } from "../../../src/config/load.js";
import { runDaemon } from "../../../src/server/daemon.js";
import { lifecycleProvider } from "../../../src/server/lifecycle-provider.js";
import { Lifecycle } from "../../../src/lifecycle/lifecycle.js";
import { ChildJobLauncher } from "../../../src/lifecycle/job-launcher.js";
import { createLogger } from "../../../src/util/log.js";
import { loadFakeDetector } from "./fake-bundle.js";
import { FAKE_BODIES } from "./lifecycle-fixture.js";

if (process.env.LAFITED_LIFECYCLE_DAEMON === "1") {
  const initial = process.env.LIFECYCLE_INITIAL ?? "";
  const read = () => loadConfig({ env: process.env });
  const config = read();
  const log = createLogger({ level: config.log.level });
  Lifecycle.open({ dataDir: config.dataDir, config, log, launcher: new ChildJobLauncher({ nice: config.jobs.nice, logLevel: config.log.level, killAfterMs: 2000 }), bodyModule: FAKE_BODIES })
    .then((lifecycle) =>
      runDaemon({
        config,
        log,
        provider: lifecycleProvider(lifecycle, loadFakeDetector, async () => initial),
        reloadConfig: read,
        lifecycle: { lifecycle, loadBundle: loadFakeDetector },
      }),
    )
    .then(
      (code) => (process.exitCode = code),
      (err) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
}
