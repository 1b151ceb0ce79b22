/**
 * What each gRPC method needs, in one table. A rule names a whole service or
 * one method ("/package.Service/Method"); the method rule wins. Adding a
 * service is one row here (ModelAdmin's rows are already in place, so it is
 * protected the moment it is registered). A method with no rule is refused
 * (fail closed) whenever auth is on.
 */
import type { Scope } from "../../config/schema.js";

/** A scope, "authenticated" (any known caller), or "open" (no credentials needed). */
export type Requirement = Scope | "authenticated" | "open";

/** Services whose openness is set by config (auth.openHealth, auth.openReflection). */
export const HEALTH_SERVICE = "grpc.health.v1.Health";
export const REFLECTION_SERVICES = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"] as const;

export const SCOPE_RULES: Readonly<Record<string, Requirement>> = Object.freeze({
  "lafited.v1.Detector": "detect",
  "/lafited.v1.Detector/GetModelInfo": "read",
  "lafited.v1.ModelAdmin": "admin",
  "/lafited.v1.ModelAdmin/ListModels": "read",
  "/lafited.v1.ModelAdmin/ListJobs": "read",
  [HEALTH_SERVICE]: "open",
  [REFLECTION_SERVICES[0]]: "open",
  [REFLECTION_SERVICES[1]]: "open",
});

export interface OpenServices {
  readonly openHealth: boolean;
  readonly openReflection: boolean;
}

/** The requirement of a method path ("/pkg.Service/Method"), or undefined when no rule covers it. */
export function requirementOf(path: string, open: OpenServices, rules: Readonly<Record<string, Requirement>> = SCOPE_RULES): Requirement | undefined {
  const service = serviceOf(path);
  const rule = rules[path] ?? rules[service];
  if (rule === "open") {
    if (service === HEALTH_SERVICE && !open.openHealth) return "authenticated";
    if ((REFLECTION_SERVICES as readonly string[]).includes(service) && !open.openReflection) return "authenticated";
  }
  return rule;
}

/** "/pkg.Service/Method" → "pkg.Service". */
export function serviceOf(path: string): string {
  const slash = path.indexOf("/", 1);
  return slash < 0 ? path.replace(/^\//, "") : path.slice(1, slash);
}
