/** Reading a job's JSON options: each known key checked, with a clear INVALID_INPUT naming it. */
import { invalidInput } from "../../util/errors.js";

export function numberOption(options: Record<string, unknown> | undefined, key: string, limits: { min: number; max: number; integer?: boolean }): number | undefined {
  const v = options?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < limits.min || v > limits.max || (limits.integer && !Number.isInteger(v))) {
    throw invalidInput(`job option ${key} must be ${limits.integer ? "an integer" : "a number"} from ${limits.min} to ${limits.max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A string option that must be one of `choices`. */
export function choiceOption<T extends string>(options: Record<string, unknown> | undefined, key: string, choices: readonly T[]): T | undefined {
  const v = options?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || !(choices as readonly string[]).includes(v)) throw invalidInput(`job option ${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Refuses keys a body does not read: a misspelt option in the config must not be silently ignored every night. */
export function checkOptionKeys(options: Record<string, unknown> | undefined, job: string, known: readonly string[]): void {
  const unknown = Object.keys(options ?? {}).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw invalidInput(`${job} job: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `'${k}'`).join(", ")} (known: ${known.join(", ")})`);
}
