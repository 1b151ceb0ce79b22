/**
 * Loads lafited's configuration once: the defaults file, then an optional
 * config file (--config or LAFITED_CONFIG), then environment overrides. Each
 * layer is validated as it is applied, so an error names the source, the key
 * and the problem. The result is frozen; nothing else reads process.env.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigSchema, type Config } from "./schema.js";
import { ENV_OVERRIDES, CONFIG_ENV } from "./env.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export type { Config };

/** config/lafited.yaml of this installation (dist/src/config/ → repository root). */
export const DEFAULTS_PATH = fileURLToPath(new URL("../../../config/lafited.yaml", import.meta.url));

export interface LoadConfigOptions {
  /** Config file from --config; falls back to LAFITED_CONFIG. */
  readonly file?: string;
  /** Environment to read overrides from (the caller passes process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths from the defaults and the environment. */
  readonly cwd?: string;
  readonly defaultsPath?: string;
}

/** Keys holding filesystem paths (dotted for nested ones). */
const PATH_KEYS = ["dataDir", "bundle", "server.tls.cert", "server.tls.key", "server.tls.clientCa", "auth.tokensFile", "promotion.pseudoValidationData"] as const;

type Tree = Record<string, unknown>;

export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? {};
  const cwd = options.cwd ?? process.cwd();
  const defaultsPath = options.defaultsPath ?? DEFAULTS_PATH;

  let tree = readYaml(defaultsPath, "defaults file");
  validate(tree, `defaults file ${defaultsPath}`);

  const file = options.file ?? nonEmpty(env[CONFIG_ENV]);
  if (file !== undefined) {
    const abs = path.resolve(cwd, file);
    const user = readYaml(abs, "config file");
    resolvePaths(user, path.dirname(abs));
    tree = merge(tree, user);
    validate(tree, `config file ${abs}`);
  }

  for (const [name, spec] of Object.entries(ENV_OVERRIDES)) {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) continue;
    let value: unknown = raw;
    if (spec.type === "int") {
      value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    } else if (spec.type === "nullable-string") {
      value = raw === "null" ? null : raw;
    } else if (spec.type === "nullable-path") {
      value = raw === "null" ? null : path.resolve(cwd, raw);
    } else if (spec.type === "path") {
      value = path.resolve(cwd, raw);
    }
    tree = merge(tree, nest(spec.key, value));
    validate(tree, `environment variable ${name}`);
  }

  const config = ConfigSchema.parse(tree);
  for (const key of PATH_KEYS) resolvePath(config as unknown as Tree, key, cwd);
  return deepFreeze(config);
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

function readYaml(file: string, what: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new LafiteError(ErrorCode.INVALID_CONFIG, `${what} ${file} is not valid YAML: ${(err as Error).message.split("\n")[0]}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (!isTree(doc)) throw new LafiteError(ErrorCode.INVALID_CONFIG, `${what} ${file}: top level must be a mapping of keys, got ${describe(doc)}`);
  return doc;
}

function validate(tree: Tree, source: string): void {
  const result = ConfigSchema.safeParse(tree);
  if (result.success) return;
  const problems = result.error.issues.map((issue) => describeIssue(issue, tree));
  throw new LafiteError(ErrorCode.INVALID_CONFIG, `invalid config from ${source}: ${problems.join("; ")}`);
}

function describeIssue(issue: z.core.$ZodIssue, tree: Tree): string {
  const key = issue.path.map(String).join(".") || "(top level)";
  if (issue.code === "unrecognized_keys") {
    const prefix = issue.path.length > 0 ? `${key}.` : "";
    return issue.keys.map((k) => `${prefix}${k}: unknown key`).join("; ");
  }
  const got = lookup(tree, issue.path.map(String));
  return `${key}: ${issue.message}${got === undefined ? " (missing)" : `, got ${describe(got)}`}`;
}

function lookup(tree: unknown, keys: string[]): unknown {
  let node = tree;
  for (const k of keys) {
    if (!isTree(node)) return undefined;
    node = node[k];
  }
  return node;
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (v !== null && typeof v === "object") return "a mapping";
  return String(v);
}

function isTree(v: unknown): v is Tree {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** A copy of `base` with `over` merged in: mappings merge key by key, everything else replaces. */
function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? merge(b, v) : v;
  }
  return out;
}

function nest(key: string, value: unknown): Tree {
  const parts = key.split(".");
  let tree: Tree = { [parts.pop()!]: value };
  while (parts.length > 0) tree = { [parts.pop()!]: tree };
  return tree;
}

function resolvePaths(tree: Tree, base: string): void {
  for (const key of PATH_KEYS) resolvePath(tree, key, base);
}

/** Makes the string at dotted `key` absolute against `base`, if it is set. */
function resolvePath(tree: Tree, key: string, base: string): void {
  const parts = key.split(".");
  const last = parts.pop()!;
  const parent = lookup(tree, parts);
  if (!isTree(parent)) return;
  const v = parent[last];
  if (typeof v === "string" && v !== "") parent[last] = path.resolve(base, v);
}

function deepFreeze<T>(v: T): Readonly<T> {
  if (v !== null && typeof v === "object") {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
