/**
 * A real LafitedServer with a lifecycle on a temporary dataDir: fake bundles
 * (served by FakeDetector, which scores by brightness against the bundle's
 * threshold), the in-process job launcher with fake job bodies, and a
 * manual scheduler. Hands back a Detector client and an AdminClient.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LafitedServer } from "../../../src/server/server.js";
import { LafitedClient } from "../../../src/server/client.js";
import { AdminClient } from "../../../src/server/admin-client.js";
import { lifecycleProvider } from "../../../src/server/lifecycle-provider.js";
import { Lifecycle } from "../../../src/lifecycle/lifecycle.js";
import { inProcessLauncher, type JobLauncher } from "../../../src/lifecycle/job-launcher.js";
import { ManualScheduler } from "../../../src/lifecycle/scheduler.js";
import type { Detector } from "../../../src/pipeline/types.js";
import { silentLogger } from "../../../src/util/log.js";
import { testConfig, type ConfigPatch } from "./harness.js";
import { writeFakeBundle, loadFakeDetector } from "../../lifecycle/support/fake-bundle.js";
import { FAKE_BODIES } from "../../lifecycle/support/lifecycle-fixture.js";

export interface AdminHarness {
  readonly server: LafitedServer;
  readonly lifecycle: Lifecycle;
  readonly client: LafitedClient;
  readonly admin: AdminClient;
  readonly address: string;
  readonly dataDir: string;
  readonly scheduler: ManualScheduler;
  /** Every detector the server loaded, in order. */
  readonly loaded: Detector[];
  stop(): Promise<void>;
}

export interface AdminHarnessOptions {
  readonly config?: ConfigPatch;
  readonly threshold?: number;
  /** Replaces the fake bundle loader (e.g. a detector the test controls). */
  readonly loadBundle?: (dir: string) => Promise<Detector>;
  readonly launcher?: JobLauncher;
}

export async function startAdminHarness(options: AdminHarnessOptions = {}): Promise<AdminHarness> {
  const dir = await mkdtemp(join(tmpdir(), "lafite-admin-"));
  const dataDir = join(dir, "data");
  const initial = join(dir, "initial");
  await writeFakeBundle(initial, "v1", { threshold: options.threshold ?? 0.5 });
  const config = testConfig({ dataDir, ...options.config });
  const log = silentLogger();
  const scheduler = new ManualScheduler();
  const lifecycle = await Lifecycle.open({ dataDir, config, log, launcher: options.launcher ?? inProcessLauncher, scheduler, bodyModule: FAKE_BODIES });
  const loaded: Detector[] = [];
  const loadBundle = async (d: string) => {
    const det = await (options.loadBundle ?? loadFakeDetector)(d);
    loaded.push(det);
    return det;
  };
  const server = new LafitedServer({ config, log, provider: lifecycleProvider(lifecycle, loadBundle, async () => initial), lifecycle: { lifecycle, loadBundle } });
  const port = await server.listen();
  await server.loadModel();
  const address = `127.0.0.1:${port}`;
  const client = new LafitedClient(address);
  const admin = new AdminClient(address);
  return {
    server,
    lifecycle,
    client,
    admin,
    address,
    dataDir,
    scheduler,
    loaded,
    stop: async () => {
      client.close();
      admin.close();
      await server.shutdown(2000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
