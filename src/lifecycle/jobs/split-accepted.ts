/**
 * Which accepted frames a job learns from and which it holds out for the
 * threshold: fit's rule (holdoutIndices, evenly spaced picks) applied per
 * class tag, so every class that sent enough frames is represented.
 */
import { holdoutIndices } from "../../pipeline/fit.js";
import type { AcceptedFrame } from "./types.js";

export function splitAccepted<T extends { readonly frame: AcceptedFrame }>(items: readonly T[], fraction: number): { learn: T[]; holdout: T[] } {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const key = it.frame.classTag ?? "";
    const g = groups.get(key) ?? [];
    g.push(it);
    groups.set(key, g);
  }
  const learn: T[] = [];
  const holdout: T[] = [];
  for (const g of groups.values()) {
    const held = holdoutIndices(g.length, fraction);
    g.forEach((it, i) => (held.has(i) ? holdout : learn).push(it));
  }
  return { learn, holdout };
}
