/**
 * The DetectorProvider of a daemon with a lifecycle: on first start it
 * imports the initial bundle (the configured one, or the default made from
 * the demo set) as the first active version; from then on every load —
 * start, SIGHUP — serves the registry's active version. If that version no
 * longer loads, the lifecycle restores the previous one.
 */
import type { Config } from "../config/schema.js";
import type { Lifecycle } from "../lifecycle/lifecycle.js";
import type { Detector } from "../pipeline/types.js";
import type { Logger } from "../util/log.js";
import type { DetectorProvider } from "./server.js";

export function lifecycleProvider(
  lifecycle: Lifecycle,
  loadBundle: (bundleDir: string) => Promise<Detector>,
  initialBundle: (config: Readonly<Config>, context: { signal: AbortSignal; log: Logger }) => Promise<string>,
): DetectorProvider {
  return async (config, context) => {
    await lifecycle.importInitial(() => initialBundle(config, context));
    return lifecycle.loadActive((dir) => loadBundle(dir));
  };
}
