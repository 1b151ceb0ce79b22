/**
 * A Lifecycle on a temporary dataDir with fake bundles, a fake model host
 * (it records what it serves), the in-process job launcher and a manual
 * scheduler.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lifecycle, type LifecycleOptions, type ModelHost } from "../../../src/lifecycle/lifecycle.js";
import { inProcessLauncher } from "../../../src/lifecycle/job-launcher.js";
import { ManualScheduler } from "../../../src/lifecycle/scheduler.js";
import { silentLogger } from "../../../src/util/log.js";
import { testConfig, type ConfigPatch } from "../../server/support/harness.js";
import { writeFakeBundle, loadFakeDetector } from "./fake-bundle.js";

export const FAKE_BODIES = new URL("./fake-job-bodies.js", import.meta.url).href;

export interface Fixture {
  readonly dir: string;
  readonly dataDir: string;
  readonly lifecycle: Lifecycle;
  readonly scheduler: ManualScheduler;
  /** Versions put into service, in order. */
  readonly served: string[];
  reopen(): Promise<Lifecycle>;
  cleanup(): Promise<void>;
}

export async function makeFixture(options: { config?: ConfigPatch; now?: () => Date; threshold?: number } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "lafite-lc-"));
  const dataDir = join(dir, "data");
  const initial = join(dir, "initial");
  await writeFakeBundle(initial, "v1", { threshold: options.threshold ?? 0.5 });
  const scheduler = new ManualScheduler();
  const served: string[] = [];
  const host: ModelHost = {
    load: async (bundleDir) => {
      const d = await loadFakeDetector(bundleDir);
      return { version: d.info.version, serve: () => void served.push(d.info.version), discard: () => d.close() };
    },
  };
  const config = testConfig(options.config);
  const opts: LifecycleOptions = { dataDir, config, log: silentLogger(), launcher: inProcessLauncher, scheduler, bodyModule: FAKE_BODIES, ...(options.now ? { now: options.now } : {}) };
  const open = async () => {
    const lc = await Lifecycle.open(opts);
    lc.attachHost(host);
    await lc.importInitial(async () => initial);
    return lc;
  };
  const f = { dir, dataDir, scheduler, served, lifecycle: await open() } as Fixture & { lifecycle: Lifecycle };
  return Object.assign(f, {
    reopen: async () => {
      await f.lifecycle.close();
      f.lifecycle = await open();
      return f.lifecycle;
    },
    cleanup: async () => {
      await f.lifecycle.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
