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
import { createLogger } from "../../util/log.js";

/** The real provider: the configured bundle, or the default one in dataDir (made on first start). */
export const bundleProvider: DetectorProvider = async (config: Readonly<Config>, { signal, log }) => {
  // Loaded here, not at the top, so the server is already listening (NOT_SERVING) while ONNX Runtime loads.
  const { ensureDefaultBundle, loadDetector } = await import("../../pipeline/load.js");
  const bundle = config.bundle ?? (await ensureDefaultBundle(config.dataDir, { signal, log: (msg) => log.info(msg) }));
  return loadDetector(bundle, {
    executionProvider: config.model.executionProvider,
    limits: { maxPixels: config.limits.maxPixels },
    ...(config.model.intraOpThreads > 0 ? { intraOpThreads: config.model.intraOpThreads } : {}),
    log: (msg) => log.info(msg),
  });
};

export const command: CliCommand = {
  summary: "Run the lafited gRPC daemon (Detect, DetectOne, GetModelInfo, health, reflection).",
  usage: `lafite serve [--config FILE]
  --config FILE   YAML layered over config/lafited.yaml (also: LAFITED_CONFIG)
Environment: LAFITED_LISTEN, LAFITED_DATA_DIR, LAFITED_BUNDLE, LAFITED_LOG_LEVEL,
  LAFITED_EXECUTION_PROVIDER, LAFITED_THREADS, LAFITED_METRICS_LISTEN override the config.
Signals: SIGTERM/SIGINT drain in-flight frames and exit 0; SIGHUP reloads config, model,
  TLS certificate and tokens without dropping open streams.
Under systemd (Type=notify): READY=1 once serving, WATCHDOG=1 while frames make progress.`,
  async run(argv) {
    const { values } = parseFlags(argv, { config: { type: "string" } });
    const read = () => loadConfig({ ...(values.config !== undefined ? { file: values.config } : {}), env: process.env });
    const config = read();
    const log = createLogger({ level: config.log.level });
    return runDaemon({ config, log, provider: bundleProvider, reloadConfig: read, env: process.env });
  },
};
