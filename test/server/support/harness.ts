/**
 * Starts a real LafitedServer on 127.0.0.1 port 0 with a fake detector and
 * hands back a connected client; stop() shuts both down.
 */
import { loadConfig, type Config } from "../../../src/config/load.js";
import { LafitedServer, type DetectorProvider } from "../../../src/server/server.js";
import { LafitedClient } from "../../../src/server/client.js";
import { silentLogger, type Logger } from "../../../src/util/log.js";
import { FakeDetector, type FakeDetectorOptions } from "./fake-detector.js";

export interface Harness {
  readonly server: LafitedServer;
  readonly client: LafitedClient;
  readonly address: string;
  /** The detector currently served by the last provider call. */
  detector: FakeDetector;
  newClient(): LafitedClient;
  stop(): Promise<void>;
}

export type ConfigPatch = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K] };

export function testConfig(patch: ConfigPatch = {}): Readonly<Config> {
  const base = loadConfig({ env: {} });
  // Metrics off unless a test asks: the default port (9464) would collide between parallel test runs.
  const merged: Record<string, unknown> = { ...base, listen: "127.0.0.1:0", metrics: { listen: null } };
  for (const [k, v] of Object.entries(patch)) {
    const b = (base as Record<string, unknown>)[k];
    merged[k] = v !== null && typeof v === "object" && b !== null && typeof b === "object" ? { ...b, ...v } : v;
  }
  return merged as Config;
}

export interface HarnessOptions {
  readonly config?: ConfigPatch;
  readonly fake?: FakeDetectorOptions;
  /** Do not load a model (health stays NOT_SERVING). */
  readonly noModel?: boolean;
  readonly provider?: DetectorProvider;
  readonly log?: Logger;
  /** What reload() re-reads as the config patch (absent: reload keeps the config). */
  readonly reloadConfig?: () => ConfigPatch;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clients: LafitedClient[] = [];
  const h: Partial<Harness> & { detector: FakeDetector } = { detector: new FakeDetector(options.fake) };
  let first = true;
  const provider: DetectorProvider =
    options.provider ??
    (async () => {
      if (!first) h.detector = new FakeDetector(options.fake);
      first = false;
      return h.detector;
    });
  const reloadConfig = options.reloadConfig;
  const server = new LafitedServer({ config: testConfig(options.config), log: options.log ?? silentLogger(), provider, ...(reloadConfig ? { reloadConfig: () => testConfig(reloadConfig()) } : {}) });
  const port = await server.listen();
  if (!options.noModel) await server.loadModel();
  const address = `127.0.0.1:${port}`;
  const newClient = () => {
    const c = new LafitedClient(address);
    clients.push(c);
    return c;
  };
  const client = newClient();
  return Object.assign(h, {
    server,
    client,
    address,
    newClient,
    stop: async () => {
      for (const c of clients) c.close();
      await server.shutdown(2000);
      // Diagnostic: fires only if something still holds the test process open long after stop().
      setTimeout(() => console.error("HANDLES STILL OPEN", process.getActiveResourcesInfo(), h.server?.state, h.server?.stats), 8000).unref();
    },
  });
}
