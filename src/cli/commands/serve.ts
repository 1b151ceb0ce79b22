/**
 * `lafite serve`: the daemon. Loads the config, listens (health NOT_SERVING),
 * makes the default bundle on first start if none is configured, loads the
 * model, then serves (health SERVING) until SIGTERM/SIGINT. SIGHUP reloads the
 * config and the bundle without dropping open streams.
 */
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { loadConfig, type Config } from "../../config/load.js";
import type { DetectorProvider } from "../../server/server.js";
import { runDaemon } from "../../server/daemon.js";
import { lifecycleProvider } from "../../server/lifecycle-provider.js";
import { Lifecycle } from "../../lifecycle/lifecycle.js";
import { ChildJobLauncher } from "../../lifecycle/job-launcher.js";
import type { Detector } from "../../pipeline/types.js";
import { createLogger, type Logger } from "../../util/log.js";

/** The bundle the daemon starts from on first start: the configured one, or the default one in dataDir (made then). */
export async function initialBundle(config: Readonly<Config>, { signal, log }: { signal: AbortSignal; log: Logger }): Promise<string> {
  const { ensureDefaultBundle } = await import("../../pipeline/load.js");
  return config.bundle ?? (await ensureDefaultBundle(config.dataDir, { signal, log: (msg) => log.info(msg) }));
}

/** Loads a bundle folder with the daemon's model settings. */
export async function loadServedBundle(config: Readonly<Config>, log: Logger, bundleDir: string): Promise<Detector> {
  // Loaded here, not at the top, so the server is already listening (NOT_SERVING) while ONNX Runtime loads.
  const { loadDetector } = await import("../../pipeline/load.js");
  return loadDetector(bundleDir, {
    executionProvider: config.model.executionProvider,
    limits: { maxPixels: config.limits.maxPixels },
    unlikeMargin: config.model.unlikeMargin,
    ...(config.model.intraOpThreads > 0 ? { intraOpThreads: config.model.intraOpThreads } : {}),
    log: (msg) => log.info(msg),
  });
}

/** The provider without a lifecycle: the configured bundle, or the default one (tests, tools). */
export const bundleProvider: DetectorProvider = async (config: Readonly<Config>, context) => loadServedBundle(config, context.log, await initialBundle(config, context));

export const command: CliCommand = {
  summary: "Run the lafited gRPC daemon (Detector, ModelAdmin, health, reflection).",
  usage: `lafite serve [--config FILE]
  --config FILE   YAML layered over config/lafited.yaml (also: LAFITED_CONFIG)
Environment: LAFITED_LISTEN, LAFITED_DATA_DIR, LAFITED_BUNDLE, LAFITED_LOG_LEVEL,
  LAFITED_EXECUTION_PROVIDER, LAFITED_THREADS, LAFITED_METRICS_LISTEN override the config.
State: dataDir/state.db (ledger, registry, jobs), dataDir/models/<version>/; the
  first start imports the configured (or default) bundle as the active version.
Signals: SIGTERM/SIGINT drain in-flight frames and exit 0; SIGHUP reloads config, model,
  TLS certificate and tokens without dropping open streams.
Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while frames make progress.`,
  async run(argv) {
    const { values } = parseFlags(argv, { config: { type: "string" } });
    const read = () => loadConfig({ ...(values.config !== undefined ? { file: values.config } : {}), env: process.env });
    const config = read();
    // The config a bundle is loaded with: SIGHUP's re-read one (the server re-reads before it loads the bundle again),
    // so the model's settings (model.*) apply on reload and to a promoted version, not only at start.
    let current = config;
    const reread = () => (current = read());
    const log = createLogger({ level: config.log.level });
    const lifecycle = await Lifecycle.open({ dataDir: config.dataDir, config, log, launcher: new ChildJobLauncher({ nice: config.jobs.nice, logLevel: config.log.level }) });
    const loadBundle = (dir: string) => loadServedBundle(current, log, dir);
    return runDaemon({ config, log, provider: lifecycleProvider(lifecycle, loadBundle, initialBundle), reloadConfig: reread, env: process.env, lifecycle: { lifecycle, loadBundle } });
  },
};
