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
