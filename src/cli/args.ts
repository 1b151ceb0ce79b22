/**
 * Flag parsing for the CLI, on node:util parseArgs, with errors that name
 * the flag. Each command declares its flags once.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { invalidInput } from "../util/errors.js";

export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

export function parseFlags<T extends FlagSpec>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw invalidInput((err as Error).message);
  }
}

export function requireFlag(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw invalidInput(`missing required flag --${flag}`);
  return value;
}

/** A flag whose value is one of `choices`. */
export function choiceFlag<C extends string>(value: string, flag: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(value)) throw invalidInput(`--${flag} must be one of ${choices.join(", ")}, got '${value}'`);
  return value as C;
}

/** --execution-provider cpu|cuda (undefined when absent). */
export function executionProviderFlag(value: string | undefined): "cpu" | "cuda" | undefined {
  return value === undefined ? undefined : choiceFlag(value, "execution-provider", ["cpu", "cuda"] as const);
}

export function intFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) throw invalidInput(`--${flag} must be an integer, got '${value}'`);
  return n;
}

/** A share from 0 to 1 (e.g. 0.25), or the fallback when the flag is absent. */
export function shareFlag(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = value.trim() === "" ? NaN : Number(value);
  if (!(n >= 0 && n <= 1)) throw invalidInput(`--${flag} must be a number from 0 to 1, got '${value}'`);
  return n;
}
