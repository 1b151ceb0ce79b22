/**
 * The flags every `lafite` command that talks to a daemon shares: where it
 * is (--server), TLS (--tls-ca, --tls-cert, --tls-key) and the bearer token
 * (--token, else LAFITED_TOKEN). A command spreads DAEMON_FLAGS into its own
 * flag spec, appends DAEMON_FLAGS_USAGE to its usage, and calls
 * daemonClient(values, process.env).
 */
import type { FlagSpec } from "./args.js";
import { TOKEN_ENV } from "../config/env.js";
import { LafitedClient, type ClientOptions } from "../server/client.js";
import { channelCredentials } from "../server/client-credentials.js";
import { invalidInput } from "../util/errors.js";

export const DEFAULT_SERVER = "127.0.0.1:50051";

export const DAEMON_FLAGS = {
  server: { type: "string" },
  "tls-ca": { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  token: { type: "string" },
} as const satisfies FlagSpec;

export const DAEMON_FLAGS_USAGE = `  --server HOST:PORT  daemon address (default ${DEFAULT_SERVER})
  --tls-ca FILE       connect with TLS; trust the server certificate signed by this PEM CA
  --tls-cert FILE     client certificate (PEM) for mTLS; with --tls-key (also turns TLS on)
  --tls-key FILE      the client certificate's private key (PEM)
  --token TOKEN       bearer token (default: the environment variable ${TOKEN_ENV})`;

export interface DaemonFlagValues {
  readonly server?: string | undefined;
  readonly "tls-ca"?: string | undefined;
  readonly "tls-cert"?: string | undefined;
  readonly "tls-key"?: string | undefined;
  readonly token?: string | undefined;
}

export interface DaemonTarget {
  readonly server: string;
  readonly client: LafitedClient;
}

/** A client for the daemon the flags name; the token never reaches a log or an error message. */
export function daemonClient(values: DaemonFlagValues, env: Readonly<Record<string, string | undefined>>): DaemonTarget {
  const { server, options } = daemonConnection(values, env);
  return { server, client: new LafitedClient(server, options) };
}

/** The address and channel options (TLS, token) the flags name; for every client kind (Detector, ModelAdmin). */
export function daemonConnection(values: DaemonFlagValues, env: Readonly<Record<string, string | undefined>>): { server: string; options: ClientOptions } {
  const server = values.server ?? DEFAULT_SERVER;
  const token = values.token ?? nonEmpty(env[TOKEN_ENV]);
  if (token !== undefined && /\s/.test(token)) throw invalidInput(`--token / ${TOKEN_ENV}: a token has no whitespace`);
  const credentials = channelCredentials({
    ...(values["tls-ca"] !== undefined ? { ca: values["tls-ca"] } : {}),
    ...(values["tls-cert"] !== undefined ? { cert: values["tls-cert"] } : {}),
    ...(values["tls-key"] !== undefined ? { key: values["tls-key"] } : {}),
  });
  return { server, options: { credentials, ...(token !== undefined ? { token } : {}) } };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
