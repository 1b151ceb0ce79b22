/**
 * Which accepted frames a job learns from and which it holds out for the
 * threshold: fit's rule (holdoutIndices, evenly spaced picks) applied per
 * class (`classOf`: its tag by default; the jobs pass the tag, else the class
 * an untagged frame reads as), so every class that sent enough frames is
 * represented.
 */
import { holdoutIndices } from "../../pipeline/fit.js";
import type { AcceptedFrame } from "./types.js";

export function splitAccepted<T extends { readonly frame: AcceptedFrame }>(items: readonly T[], fraction: number, classOf: (it: T) => string | undefined = (it) => it.frame.classTag): { learn: T[]; holdout: T[] } {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    // Untagged and unread frames form one group of their own ("" is no class name a tag can carry).
    const key = classOf(it) ?? "";
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
