/**
 * The real job bodies, looked up by kind. They live in ./jobs/ (memory-bank
 * refresh and diffusion retraining, built separately) and are imported
 * lazily, so this module — and the daemon — load even where a body is not
 * installed: running that job then fails with a clear message.
 */
import type { JobBody, JobBodyContext, JobBodyModule } from "./job-body.js";
import type { JobKind } from "./job-records.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

const MODULES: Record<JobKind, { module: string; exportName: string }> = {
  refresh: { module: "./jobs/refresh-memory-bank.js", exportName: "refreshMemoryBank" },
  retrain: { module: "./jobs/retrain-diffusion.js", exportName: "retrainDiffusion" },
};

function lazyBody(kind: JobKind): JobBody {
  return async (ctx: JobBodyContext) => {
    const { module, exportName } = MODULES[kind];
    let mod: Record<string, unknown>;
    try {
      // A variable specifier: the body is optional at build time.
      const specifier: string = module;
      mod = (await import(specifier)) as Record<string, unknown>;
    } catch (err) {
      throw new LafiteError(ErrorCode.INTERNAL, `the ${kind} job body is not installed (src/lifecycle/${module.slice(2)}): ${(err as Error).message}`, { cause: err });
    }
    const fn = mod[exportName];
    if (typeof fn !== "function") throw new LafiteError(ErrorCode.INTERNAL, `src/lifecycle/${module.slice(2)} does not export ${exportName}()`);
    return (fn as (opts: JobBodyContext) => Promise<{ summary: Record<string, unknown> }>)(ctx);
  };
}

export const bodies: JobBodyModule["bodies"] = { refresh: lazyBody("refresh"), retrain: lazyBody("retrain") };
