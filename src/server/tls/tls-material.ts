/**
 * Reads and checks the server's TLS files (config server.tls.*) before they
 * reach grpc-js, so a bad file is an error that names its config key instead
 * of a failed handshake later: missing or unreadable, not PEM, a key that
 * does not belong to the certificate, a certificate that has expired or is
 * not yet valid.
 */
import { readFileSync } from "node:fs";
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import type { Config } from "../../config/schema.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";

export type TlsConfig = Config["server"]["tls"];

/** Checked PEM material, ready for a secure context. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly clientCa: Buffer | null;
  readonly requireClientCert: boolean;
  /** Of the leaf certificate, for logs and tests. */
  readonly subject: string;
  readonly fingerprint256: string;
  readonly validTo: Date;
}

/** The material of `tls`, or null when TLS is off (cert and key null). Throws INVALID_CONFIG naming the key. */
export function readTlsMaterial(tls: TlsConfig, now: Date = new Date()): TlsMaterial | null {
  if (tls.cert === null || tls.key === null) return null;
  const cert = readPem(tls.cert, "server.tls.cert");
  const key = readPem(tls.key, "server.tls.key");
  const leaf = parseCertificates(cert, tls.cert, "server.tls.cert")[0]!;
  checkValidity(leaf, tls.cert, "server.tls.cert", now);
  const privateKey = parseKey(key, tls.key);
  if (!leaf.checkPrivateKey(privateKey)) {
    throw configError(`server.tls.key: ${tls.key} does not match the certificate in server.tls.cert (${tls.cert}, subject ${oneLine(leaf.subject)})`);
  }
  let clientCa: Buffer | null = null;
  if (tls.clientCa !== null) {
    clientCa = readPem(tls.clientCa, "server.tls.clientCa");
    for (const ca of parseCertificates(clientCa, tls.clientCa, "server.tls.clientCa")) checkValidity(ca, tls.clientCa, "server.tls.clientCa", now);
  }
  return {
    cert,
    key,
    clientCa,
    requireClientCert: tls.requireClientCert,
    subject: oneLine(leaf.subject),
    fingerprint256: leaf.fingerprint256,
    validTo: new Date(leaf.validTo),
  };
}

function readPem(file: string, key: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? (err as Error).message);
    throw configError(`${key}: cannot read ${file}: ${why}`, err);
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseCertificates(pem: Buffer, file: string, key: string): X509Certificate[] {
  const blocks = pem.toString("latin1").match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw configError(`${key}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw configError(`${key}: certificate ${i + 1} in ${file} cannot be parsed: ${(err as Error).message}`, err);
    }
  });
}

function parseKey(pem: Buffer, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw configError(`server.tls.key: ${file} is not a readable PEM private key (an encrypted key is not supported): ${(err as Error).message}`, err);
  }
}

function checkValidity(cert: X509Certificate, file: string, key: string, now: Date): void {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (to.getTime() < now.getTime()) throw configError(`${key}: the certificate in ${file} (subject ${oneLine(cert.subject)}) expired on ${to.toISOString()}`);
  if (from.getTime() > now.getTime()) throw configError(`${key}: the certificate in ${file} (subject ${oneLine(cert.subject)}) is not valid before ${from.toISOString()}`);
}

function oneLine(subject: string): string {
  return subject.split("\n").filter(Boolean).join(", ");
}

function configError(message: string, cause?: unknown): LafiteError {
  return new LafiteError(ErrorCode.INVALID_CONFIG, message, { cause });
}
