/**
 * The set of known callers: bearer tokens (config auth.tokens plus the file
 * auth.tokensFile) and client-certificate subjects (auth.clientCerts). Only
 * the SHA-256 of a token is ever held; a presented token is hashed and looked
 * up, and the comparison of hashes is constant-time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import type { PeerCertificate } from "node:tls";
import { parse as parseYaml } from "yaml";
import { TokenListSchema, type Config, type Scope, type TokenEntry } from "../../config/schema.js";
import { LafiteError, ErrorCode } from "../../util/errors.js";

/** Who made a call, as the limits and logs see it (never the token itself). */
export interface Principal {
  /** "token:<name>", "cert:<subject>" or "anonymous". */
  readonly id: string;
  readonly scopes: ReadonlySet<Scope>;
}

export const ANONYMOUS: Principal = Object.freeze({ id: "anonymous", scopes: new Set<Scope>() });

/** The hex SHA-256 of a token, as auth.tokens stores it. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

interface CertRule {
  readonly subject: string;
  readonly attributes: readonly [string, string][];
  readonly scopes: ReadonlySet<Scope>;
}

export class Credentials {
  private readonly byHash = new Map<string, { entry: TokenEntry; principal: Principal }>();
  private readonly certRules: CertRule[];

  constructor(tokens: readonly TokenEntry[], clientCerts: Config["auth"]["clientCerts"]) {
    for (const entry of tokens) {
      const hash = entry.sha256.toLowerCase();
      if (this.byHash.has(hash)) throw new LafiteError(ErrorCode.INVALID_CONFIG, `auth.tokens: tokens '${this.byHash.get(hash)!.entry.name}' and '${entry.name}' have the same sha256`);
      this.byHash.set(hash, { entry, principal: Object.freeze({ id: `token:${entry.name}`, scopes: new Set(entry.scopes) }) });
    }
    this.certRules = clientCerts.map((c) => ({ subject: c.subject, attributes: parseSubject(c.subject), scopes: new Set(c.scopes) }));
  }

  /** True when any credential is configured, i.e. auth is on. */
  get configured(): boolean {
    return this.byHash.size > 0 || this.certRules.length > 0;
  }

  get tokenCount(): number {
    return this.byHash.size;
  }

  /** The principal of a presented token, or undefined if unknown. */
  byToken(token: string): Principal | undefined {
    const hash = tokenHash(token);
    const found = this.byHash.get(hash);
    if (found === undefined) return undefined;
    // The map lookup already matched; the constant-time compare keeps the check honest if the lookup changes.
    return timingSafeEqual(Buffer.from(hash, "hex"), Buffer.from(found.entry.sha256.toLowerCase(), "hex")) ? found.principal : undefined;
  }

  /** The principal of a verified client certificate, or undefined if no auth.clientCerts rule matches it. */
  byCertificate(cert: PeerCertificate): Principal | undefined {
    const subject = cert.subject as unknown as Record<string, string | string[] | undefined>;
    for (const rule of this.certRules) {
      const matches = rule.attributes.every(([attr, value]) => {
        const v = subject[attr];
        return Array.isArray(v) ? v.includes(value) : v === value;
      });
      if (matches) return Object.freeze({ id: `cert:${rule.subject}`, scopes: rule.scopes });
    }
    return undefined;
  }
}

/** "CN=line-3, O=Acme" → [["CN","line-3"],["O","Acme"]]. */
export function parseSubject(subject: string): [string, string][] {
  return subject.split(",").map((part) => {
    const eq = part.indexOf("=");
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
  });
}

/** The known callers of a config: auth.tokens, the entries of auth.tokensFile, auth.clientCerts. Throws INVALID_CONFIG naming the key. */
export function loadCredentials(auth: Config["auth"]): Credentials {
  const tokens = [...auth.tokens];
  if (auth.tokensFile !== null) tokens.push(...readTokensFile(auth.tokensFile));
  const names = new Set<string>();
  for (const t of tokens) {
    if (names.has(t.name)) throw new LafiteError(ErrorCode.INVALID_CONFIG, `auth.tokens / auth.tokensFile: token name '${t.name}' is used twice`);
    names.add(t.name);
  }
  return new Credentials(tokens, auth.clientCerts);
}

function readTokensFile(file: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `auth.tokensFile: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text); // YAML is a superset of JSON
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `auth.tokensFile: ${file} is not valid YAML or JSON: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  const parsed = TokenListSchema.safeParse(doc ?? []);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`);
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `auth.tokensFile: ${file}: ${problems.join("; ")} (expected a list of {name, sha256, scopes})`);
  }
  return parsed.data;
}
