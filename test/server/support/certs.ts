/**
 * Test certificates, made at test time with Debian's openssl (EC P-256, so
 * it takes milliseconds): a CA, two server certificates for
 * localhost/127.0.0.1 (the second to test reloads), client certificates
 * signed by the CA (CN=line-3 and CN=line-4), and a client certificate from
 * another CA (not trusted).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TestCerts {
  readonly dir: string;
  readonly ca: { cert: string; key: string };
  readonly server: { cert: string; key: string };
  readonly server2: { cert: string; key: string };
  readonly client: { cert: string; key: string };
  readonly client2: { cert: string; key: string };
  readonly rogueClient: { cert: string; key: string };
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-certs-"));
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

  const selfSignedCa = (name: string, cn: string) => {
    ssl("req", "-x509", ...newKey, "-keyout", f(`${name}.key`), "-out", f(`${name}.crt`), "-subj", `/CN=${cn}`, "-days", "2");
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  const signed = (name: string, subject: string, ca: { cert: string; key: string }, ext: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl("req", ...newKey, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", subject);
    ssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "2", "-extfile", f(`${name}.ext`));
    return { cert: f(`${name}.crt`), key: f(`${name}.key`) };
  };
  const serverExt = "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n";
  const clientExt = "extendedKeyUsage=clientAuth\n";

  const ca = selfSignedCa("ca", "lafited-test-ca");
  const rogueCa = selfSignedCa("rogue-ca", "rogue-ca");
  return {
    dir,
    ca,
    server: signed("server", "/CN=lafited-server-1", ca, serverExt),
    server2: signed("server2", "/CN=lafited-server-2", ca, serverExt),
    client: signed("client", "/CN=line-3/O=Acme", ca, clientExt),
    client2: signed("client2", "/CN=line-4/O=Acme", ca, clientExt),
    rogueClient: signed("rogue-client", "/CN=line-3/O=Acme", rogueCa, clientExt),
  };
}
