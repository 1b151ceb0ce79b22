/**
 * Whether the configured listen address, auth and TLS make sense together,
 * checked before the server binds:
 * - auth on, plaintext, non-loopback address: refused (INVALID_CONFIG), since
 *   bearer tokens would cross the network in clear; auth.allowPlaintext: true
 *   overrides (e.g. behind a TLS-terminating proxy on the same host).
 * - auth off, non-loopback address: allowed with a warning (anyone who can
 *   reach the port can use the daemon), so existing line-network setups keep
 *   working.
 * - loopback: anything goes; with no auth this is today's quick start.
 */
import { isIP } from "node:net";
import type { Config } from "../config/schema.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface PolicyOutcome {
  /** Warnings to log; the start goes on. */
  readonly warnings: readonly string[];
}

export function checkTransportPolicy(config: Readonly<Config>, authOn: boolean): PolicyOutcome {
  const tlsOn = config.server.tls.cert !== null;
  const host = hostOf(config.listen);
  const loopback = isLoopback(host);
  const warnings: string[] = [];
  if (authOn && !tlsOn && !loopback) {
    if (!config.auth.allowPlaintext) {
      throw new LafiteError(
        ErrorCode.INVALID_CONFIG,
        `listen ${config.listen} is not a loopback address and auth is configured without TLS: tokens would cross the network in clear. ` +
          "Set server.tls.cert and server.tls.key, listen on loopback, or set auth.allowPlaintext: true",
      );
    }
    warnings.push(`auth tokens travel in clear on ${config.listen} (auth.allowPlaintext: true)`);
  }
  if (!authOn && !loopback) {
    warnings.push(`listening on non-loopback ${config.listen} without auth: anyone who reaches this port can use the daemon (configure auth.tokens)`);
  }
  if (!authOn && tlsOn && config.server.tls.clientCa === null) {
    warnings.push("TLS is on but auth is off: the connection is encrypted, callers are not checked");
  }
  return { warnings };
}

export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  if (isIP(host) === 6) return host === "::1" || host.startsWith("::ffff:127.");
  return false;
}
