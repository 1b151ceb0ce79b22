/**
 * The metrics HTTP listener (config metrics.listen): GET /metrics in the
 * Prometheus text format, /healthz (200 while the process answers) and
 * /readyz (200 when a model is loaded and the frame queue has room, else 503
 * with the reason). Separate from the gRPC port so scrapers and load
 * balancers need no gRPC, and it can stay on loopback when gRPC does not.
 */
import { createServer, type Server } from "node:http";
import type { DaemonMetrics } from "./daemon-metrics.js";
import { LafiteError, ErrorCode } from "../util/errors.js";

export interface Readiness {
  readonly ready: boolean;
  readonly reason: string;
}

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsListener(address: string, metrics: DaemonMetrics, readiness: () => Readiness): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url === "/metrics") {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(err as Error).message}\n`),
      );
    } else if (url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (url === "/readyz") {
      const r = readiness();
      res.writeHead(r.ready ? 200 : 503, { "content-type": "text/plain" }).end(`${r.reason}\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics, /healthz or /readyz\n");
    }
  });
  server.keepAliveTimeout = 5000;
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new LafiteError(ErrorCode.INVALID_CONFIG, `cannot listen on ${address} (config key metrics.listen): ${err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    port: typeof bound === "object" && bound !== null ? bound.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** "127.0.0.1:9464" / "[::1]:9464" → host and port. */
function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, "$1"), port: Number(address.slice(i + 1)) };
}
