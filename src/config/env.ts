/**
 * The environment variables lafited reads, in one table. Only
 * src/config/load.ts consults them; the systemd unit and its test use the
 * same names.
 */

/** Path of a YAML config file layered over the defaults (like --config). */
export const CONFIG_ENV = "LAFITED_CONFIG";

export interface EnvOverride {
  /** Dotted config key the variable sets. */
  readonly key: string;
  readonly type: "string" | "nullable-string" | "int" | "path" | "nullable-path";
}

export const ENV_OVERRIDES: Readonly<Record<string, EnvOverride>> = Object.freeze({
  LAFITED_LISTEN: { key: "listen", type: "string" },
  LAFITED_DATA_DIR: { key: "dataDir", type: "path" },
  LAFITED_BUNDLE: { key: "bundle", type: "nullable-path" },
  LAFITED_LOG_LEVEL: { key: "log.level", type: "string" },
  LAFITED_EXECUTION_PROVIDER: { key: "model.executionProvider", type: "string" },
  LAFITED_THREADS: { key: "model.intraOpThreads", type: "int" },
  LAFITED_METRICS_LISTEN: { key: "metrics.listen", type: "nullable-string" },
});

/**
 * Client side (the CLI commands that talk to a daemon): the bearer token, when
 * --token is not given. Read only by src/cli/daemon-flags.ts.
 */
export const TOKEN_ENV = "LAFITED_TOKEN";

/**
 * Set by systemd for Type=notify services (src/server/systemd/): where to
 * send READY=1/WATCHDOG=1, and the watchdog period and its target PID.
 */
export const SYSTEMD_ENV = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] as const;

/** Every variable name lafited reads. */
export const ENV_NAMES: readonly string[] = Object.freeze([CONFIG_ENV, ...Object.keys(ENV_OVERRIDES), TOKEN_ENV, ...SYSTEMD_ENV]);
