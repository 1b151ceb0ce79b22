/**
 * The client side of TLS and tokens, for every lafited client (the CLI, the
 * tests, the benches): channel credentials from PEM files, and a client
 * interceptor that adds "authorization: Bearer <token>" to every call. An
 * interceptor rather than call credentials because grpc-js refuses to compose
 * call credentials with a plaintext channel, and a loopback daemon with auth
 * is a valid setup.
 */
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { invalidInput } from "../util/errors.js";

export interface TlsFiles {
  /** PEM CA bundle that signs the server's certificate; undefined: the system roots. */
  readonly ca?: string;
  /** Client certificate and key for mTLS (both or neither). */
  readonly cert?: string;
  readonly key?: string;
}

/** Channel credentials: TLS when any file is given, else plaintext. Errors name the flag (--tls-ca, ...). */
export function channelCredentials(tls: TlsFiles): grpc.ChannelCredentials {
  if (tls.ca === undefined && tls.cert === undefined && tls.key === undefined) return grpc.credentials.createInsecure();
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw invalidInput("--tls-cert and --tls-key go together (the client certificate and its key)");
  const ca = tls.ca === undefined ? null : readFlagFile(tls.ca, "tls-ca");
  const cert = tls.cert === undefined ? null : readFlagFile(tls.cert, "tls-cert");
  const key = tls.key === undefined ? null : readFlagFile(tls.key, "tls-key");
  try {
    return grpc.credentials.createSsl(ca, key, cert);
  } catch (err) {
    throw invalidInput(`--tls-ca/--tls-cert/--tls-key: ${(err as Error).message}`, err);
  }
}

/** A client interceptor that sends `token` as a bearer token on every call. */
export function bearerInterceptor(token: string): grpc.Interceptor {
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", `Bearer ${token}`);
        next(metadata, listener);
      },
    });
}

function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw invalidInput(`--${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
}
