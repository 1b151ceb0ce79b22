/**
 * How CLI commands reach a daemon: the --server flag and the one place an
 * AdminClient is made (TLS/token flags join here), plus turning a gRPC
 * failure into a CLI error that names the daemon and the status.
 */
import { status as Status, type ServiceError } from "@grpc/grpc-js";
import { AdminClient } from "../server/admin-client.js";
import { LafiteError, ErrorCode } from "../util/errors.js";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonConnection, type DaemonFlagValues } from "./daemon-flags.js";

export { DEFAULT_SERVER } from "./daemon-flags.js";

/** Flags every daemon-talking command accepts: --server, TLS and the token (daemon-flags.ts). */
export const CONNECT_FLAGS = DAEMON_FLAGS;
export const CONNECT_USAGE = DAEMON_FLAGS_USAGE;
export type ConnectValues = DaemonFlagValues;

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "details" in err;
}

/** "NOT_FOUND: no model version 'x'" */
export function describeCallError(err: unknown): string {
  if (isServiceError(err)) return `${Status[err.code] ?? err.code}: ${err.details || err.message}`;
  return (err as Error).message;
}

/** A gRPC failure calling `server` as a CLI error naming the daemon and the status; anything else as it is. */
export function asCliError(server: string, err: unknown): unknown {
  return isServiceError(err) ? new LafiteError(ErrorCode.INTERNAL, `${server}: ${describeCallError(err)}`, { cause: err }) : err;
}

/** Runs `fn` with an AdminClient for --server; gRPC failures become CLI errors. */
export async function withAdmin<T>(values: ConnectValues, fn: (client: AdminClient) => Promise<T>, env: Readonly<Record<string, string | undefined>> = process.env): Promise<T> {
  const { server, options } = daemonConnection(values, env);
  const client = new AdminClient(server, options);
  try {
    return await fn(client);
  } catch (err) {
    throw asCliError(server, err);
  } finally {
    client.close();
  }
}
