/**
 * Decides who a call is and whether it may run: the bearer token in the
 * "authorization" metadata, else a verified client certificate mapped in
 * auth.clientCerts; then the method's requirement from the scope table.
 * Throws UNAUTHENTICATED (no or unknown credentials) or PERMISSION_DENIED
 * (known caller, missing scope). Messages never echo the token.
 */
import type { Metadata } from "@grpc/grpc-js";
import type { PeerCertificate } from "node:tls";
import { LafiteError, ErrorCode } from "../../util/errors.js";
import { ANONYMOUS, type Credentials, type Principal } from "./tokens.js";
import { requirementOf, type OpenServices } from "./scopes.js";

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

export function authenticate(path: string, metadata: Metadata, peerCert: PeerCertificate | undefined, credentials: Credentials, open: OpenServices): Principal {
  const header = metadata.get("authorization");
  // The token must not travel further (handlers and their logs see the metadata).
  metadata.remove("authorization");
  if (!credentials.configured) return ANONYMOUS;

  let principal: Principal | undefined;
  if (header.length > 0) {
    const value = header.length === 1 && typeof header[0] === "string" ? BEARER.exec(header[0]) : null;
    if (value === null) throw unauthenticated("the authorization metadata must be one value 'Bearer <token>'");
    principal = credentials.byToken(value[1]!);
    if (principal === undefined) throw unauthenticated("unknown or revoked token");
  } else if (peerCert !== undefined) {
    principal = credentials.byCertificate(peerCert);
  }

  const requirement = requirementOf(path, open);
  if (requirement === "open") return principal ?? ANONYMOUS;
  if (requirement === undefined) {
    throw new LafiteError(ErrorCode.PERMISSION_DENIED, `${path} has no scope rule (src/server/auth/scopes.ts), so it is refused while auth is on`);
  }
  if (principal === undefined) {
    throw unauthenticated(
      peerCert !== undefined
        ? `no token, and the client certificate (subject ${subjectLine(peerCert)}) is not mapped in auth.clientCerts`
        : "this method needs credentials: send metadata 'authorization: Bearer <token>' or a client certificate mapped in auth.clientCerts",
    );
  }
  if (requirement === "authenticated" || principal.scopes.has(requirement)) return principal;
  throw new LafiteError(
    ErrorCode.PERMISSION_DENIED,
    `${principal.id} lacks scope '${requirement}' needed by ${path} (it has: ${[...principal.scopes].join(", ") || "none"})`,
  );
}

function unauthenticated(why: string): LafiteError {
  return new LafiteError(ErrorCode.UNAUTHENTICATED, why);
}

function subjectLine(cert: PeerCertificate): string {
  return Object.entries(cert.subject ?? {})
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
}
