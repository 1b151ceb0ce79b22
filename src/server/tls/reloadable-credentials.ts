/**
 * Server credentials whose certificate can change while the server runs.
 *
 * grpc-js 1.14 has this built in, under its experimental API: credentials
 * made by createCertificateProviderServerCredentials watch a
 * CertificateProvider, and on each update the server calls
 * http2SecureServer.setSecureContext(). Node applies a new secure context to
 * new TLS handshakes only, so open connections, and the streams on them, keep
 * going on the old certificate. This provider is updated by hand (SIGHUP),
 * not by polling files like grpc-js's FileWatcherCertificateProvider, so a
 * half-written certificate is never picked up and a bad one is refused with
 * the config key named.
 *
 * Limits: whether client certificates are requested (clientCa set or not) and
 * required is fixed when the server binds; changing those needs a restart.
 */
import * as grpc from "@grpc/grpc-js";
import type { TlsMaterial } from "./tls-material.js";

type CaListener = grpc.experimental.CaCertificateUpdateListener;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;

export class ReloadableCertificateProvider implements grpc.experimental.CertificateProvider {
  private material: TlsMaterial;
  private readonly caListeners = new Set<CaListener>();
  private readonly identityListeners = new Set<IdentityListener>();

  constructor(material: TlsMaterial) {
    this.material = material;
  }

  get current(): TlsMaterial {
    return this.material;
  }

  /** New handshakes use `material` from now on. */
  update(material: TlsMaterial): void {
    this.material = material;
    for (const l of this.identityListeners) l(this.identity());
    for (const l of this.caListeners) l(this.ca());
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    // Deferred: grpc-js registers its own watcher only after adding this listener.
    queueMicrotask(() => this.caListeners.has(listener) && listener(this.ca()));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => this.identityListeners.has(listener) && listener(this.identity()));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  private identity(): grpc.experimental.IdentityCertificateUpdate {
    return { certificate: this.material.cert, privateKey: this.material.key };
  }

  private ca(): grpc.experimental.CaCertificateUpdate | null {
    return this.material.clientCa === null ? null : { caCertificate: this.material.clientCa };
  }
}

/** grpc-js server credentials served from `provider`. */
export function reloadableServerCredentials(provider: ReloadableCertificateProvider): grpc.ServerCredentials {
  const m = provider.current;
  // grpc-js names the parameters (ca, identity, ...) but its implementation takes (identity, ca, ...):
  // the second one is the nullable one, and it decides whether client certificates are requested.
  return grpc.experimental.createCertificateProviderServerCredentials(provider, m.clientCa === null ? null : provider, m.requireClientCert);
}
