/**
 * How CLI commands reach a daemon: the --server flag and the one place an
 * AdminClient is made (TLS/token flags join here), plus turning a gRPC
 * failure into a CLI error that names the daemon and the status.
 */
import { status as Status, type ServiceError } from "@grpc/grpc-js";
import { AdminClient } from "../server/admin-client.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export const DEFAULT_SERVER = "127.0.0.1:50051";

/** Flags every daemon-talking command accepts. */
export const CONNECT_FLAGS = { server: { type: "string" } } as const;
export const CONNECT_USAGE = `  --server HOST:PORT  daemon address (default ${DEFAULT_SERVER})`;

export interface ConnectValues {
  readonly server?: string | undefined;
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === "number" && "details" in err;
}

/** "NOT_FOUND: no model version 'x'" */
export function describeCallError(err: unknown): string {
  if (isServiceError(err)) return `${Status[err.code] ?? err.code}: ${err.details || err.message}`;
  return (err as Error).message;
}

/** Runs `fn` with an AdminClient for --server; gRPC failures become CLI errors. */
export async function withAdmin<T>(values: ConnectValues, fn: (client: AdminClient) => Promise<T>): Promise<T> {
  const server = values.server ?? DEFAULT_SERVER;
  const client = new AdminClient(server);
  try {
    return await fn(client);
  } catch (err) {
    if (isServiceError(err)) throw new LafiteError(ErrorCode.INTERNAL, `${server}: ${describeCallError(err)}`, { cause: err });
    throw err;
  } finally {
    client.close();
  }
}
