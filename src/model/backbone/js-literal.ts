/**
 * Reads the data literal out of a minified CommonJS/UMD module such as
 * `…{1:[function(e,a,n){a.exports={modelTopology:{…},…}},{}]…` without
 * running it. The parser accepts only the literal subset minifiers emit for
 * data: objects (bare, quoted or numeric keys), arrays, strings, numbers
 * (".5", "1e-3", "-2"), `!0`/`!1`, true/false/null. Anything else (a call,
 * a variable) is an error: the file is data, and is never evaluated.
 */

export type JsLiteral = null | boolean | number | string | JsLiteral[] | { [key: string]: JsLiteral };

class LiteralSyntaxError extends Error {}

class Parser {
  pos: number;

  constructor(
    private readonly src: string,
    start: number,
  ) {
    this.pos = start;
  }

  fail(msg: string): never {
    const around = this.src.slice(Math.max(0, this.pos - 20), this.pos + 20);
    throw new LiteralSyntaxError(`${msg} at offset ${this.pos} (…${around}…)`);
  }

  skipSpace(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  value(): JsLiteral {
    this.skipSpace();
    const ch = this.src[this.pos];
    if (ch === "{") return this.object();
    if (ch === "[") return this.array();
    if (ch === '"' || ch === "'") return this.string();
    if (ch === "!") {
      // Minifiers write true/false as !0/!1.
      const d = this.src[this.pos + 1];
      if (d !== "0" && d !== "1") this.fail("expected !0 or !1");
      this.pos += 2;
      return d === "0";
    }
    if (ch !== undefined && /[-+.\d]/.test(ch)) return this.number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.src.startsWith(word, this.pos) && !/[\w$]/.test(this.src[this.pos + word.length] ?? "")) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail("expected a literal value");
  }

  object(): { [key: string]: JsLiteral } {
    const out: { [key: string]: JsLiteral } = {};
    this.pos++; // {
    this.skipSpace();
    if (this.src[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      const key = this.key();
      this.skipSpace();
      if (this.src[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      // defineProperty keeps a key named "__proto__" an ordinary own property.
      Object.defineProperty(out, key, { value: this.value(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      const sep = this.src[this.pos++];
      if (sep === "}") return out;
      if (sep !== ",") this.fail("expected ',' or '}'");
    }
  }

  key(): string {
    const ch = this.src[this.pos];
    if (ch === '"' || ch === "'") return this.string();
    const m = /^(?:[A-Za-z_$][\w$]*|\d+(?:\.\d+)?)/.exec(this.src.slice(this.pos, this.pos + 256));
    if (!m) return this.fail("expected an object key");
    this.pos += m[0].length;
    return m[0];
  }

  array(): JsLiteral[] {
    const out: JsLiteral[] = [];
    this.pos++; // [
    this.skipSpace();
    if (this.src[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipSpace();
      const sep = this.src[this.pos++];
      if (sep === "]") return out;
      if (sep !== ",") this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    const quote = this.src[this.pos]!;
    const close = this.src.indexOf(quote, this.pos + 1);
    if (close < 0) this.fail("unterminated string");
    const raw = this.src.slice(this.pos + 1, close);
    if (!raw.includes("\\") && !raw.includes("\n")) {
      // Fast path: weight shards are megabytes of base64 without escapes.
      this.pos = close + 1;
      return raw;
    }
    let out = "";
    let i = this.pos + 1;
    for (;;) {
      const ch = this.src[i];
      if (ch === undefined || ch === "\n") {
        this.pos = i;
        this.fail("unterminated string");
      }
      if (ch === quote) break;
      if (ch !== "\\") {
        out += ch;
        i++;
        continue;
      }
      const e = this.src[i + 1];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
      if (e === "u" || e === "x") {
        const len = e === "u" ? 4 : 2;
        const hex = this.src.slice(i + 2, i + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
          this.pos = i;
          this.fail("bad escape");
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 2 + len;
      } else {
        out += simple[e ?? ""] ?? e ?? "";
        i += 2;
      }
    }
    this.pos = i + 1;
    return out;
  }

  number(): number {
    const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos, this.pos + 64));
    if (!m) return this.fail("bad number");
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

/** Parses one literal starting at `start`; returns it and the offset just past it. */
export function parseJsLiteral(src: string, start = 0): { value: JsLiteral; end: number } {
  const p = new Parser(src, start);
  const value = p.value();
  return { value, end: p.pos };
}

/**
 * The value a bundled module assigns to `<x>.exports=` when that value is a
 * literal (the bundle's wrapper also contains `module.exports=e()`, which is
 * skipped because it is not a literal). Throws when there is no such literal.
 */
export function moduleExportsLiteral(src: string): JsLiteral {
  const re = /\b[A-Za-z_$][\w$]*\.exports\s*=\s*(?=[{["'])/g;
  const m = re.exec(src);
  if (!m) throw new LiteralSyntaxError("no `exports = <literal>` assignment found");
  const { value, end } = parseJsLiteral(src, m.index + m[0].length);
  re.lastIndex = end;
  if (re.exec(src) !== null) {
    throw new LiteralSyntaxError("more than one literal is exported; refusing to guess");
  }
  return value;
}

export function isLiteralSyntaxError(err: unknown): err is Error {
  return err instanceof LiteralSyntaxError;
}
