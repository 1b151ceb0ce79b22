/**
 * A real LafitedServer (fake detector) with TLS and/or auth from a config
 * patch, a reloadConfig that returns the current patch (tests change it to
 * simulate an edited config before calling reload(), i.e. SIGHUP), and
 * clients with TLS files and tokens.
 */
import { LafitedServer } from "../../../src/server/server.js";
import { LafitedClient } from "../../../src/server/client.js";
import { channelCredentials, type TlsFiles } from "../../../src/server/client-credentials.js";
import type { Config } from "../../../src/config/schema.js";
import { silentLogger, type Logger } from "../../../src/util/log.js";
import { FakeDetector } from "./fake-detector.js";
import { testConfig, type ConfigPatch } from "./harness.js";

export interface SecureHarness {
  readonly server: LafitedServer;
  readonly address: string;
  /** Replaces the config that the next reload() reads. */
  setConfig(patch: ConfigPatch): void;
  client(options?: { tls?: TlsFiles; token?: string; address?: string }): LafitedClient;
  stop(): Promise<void>;
}

export function secureConfig(patch: ConfigPatch): Readonly<Config> {
  const base = testConfig(patch);
  return base;
}

export async function startSecure(patch: ConfigPatch, options: { log?: Logger; fakeDelayMs?: number } = {}): Promise<SecureHarness> {
  let config = secureConfig(patch);
  const server = new LafitedServer({
    config,
    log: options.log ?? silentLogger(),
    provider: async () => new FakeDetector({ ...(options.fakeDelayMs !== undefined ? { delayMs: options.fakeDelayMs } : {}) }),
    reloadConfig: () => config,
  });
  const port = await server.listen();
  await server.loadModel();
  const address = `127.0.0.1:${port}`;
  const clients: LafitedClient[] = [];
  return {
    server,
    address,
    setConfig: (p) => (config = secureConfig(p)),
    client: (o = {}) => {
      const c = new LafitedClient(o.address ?? address, { credentials: channelCredentials(o.tls ?? {}), ...(o.token !== undefined ? { token: o.token } : {}) });
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.close();
      await server.shutdown(2000);
    },
  };
}
