/**
 * `lafite health`: one grpc.health.v1 Check; prints the status and exits 0
 * only when SERVING. Usable as a systemd/container health probe.
 */
import { status as Status, type ServiceError } from "@grpc/grpc-js";
import type { CliCommand } from "../main.js";
import { intFlag, parseFlags } from "../args.js";
import { LafitedClient, ServingStatus, servingStatusName } from "../../server/client.js";

export const command: CliCommand = {
  summary: "Check a lafited daemon's health (exit 0 only when SERVING).",
  usage: `lafite health [--server HOST:PORT] [--service NAME] [--timeout SECONDS]
  --server HOST:PORT  daemon address (default 127.0.0.1:50051)
  --service NAME      service to check, e.g. lafited.v1.Detector (default "": the whole server)
  --timeout SECONDS   give up after this long (default 5)
Prints SERVING, NOT_SERVING, SERVICE_UNKNOWN or UNREACHABLE; exit 0 only for SERVING.`,
  async run(argv) {
    const { values } = parseFlags(argv, { server: { type: "string" }, service: { type: "string" }, timeout: { type: "string" } });
    const server = values.server ?? "127.0.0.1:50051";
    const timeoutMs = intFlag(values.timeout, "timeout", 5) * 1000;
    const client = new LafitedClient(server);
    try {
      const st = await client.health(values.service ?? "", { timeoutMs });
      process.stdout.write(`${servingStatusName(st)}\n`);
      return st === ServingStatus.SERVING ? 0 : 1;
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === Status.NOT_FOUND) {
        process.stdout.write("SERVICE_UNKNOWN\n");
        process.stderr.write(`lafite health: ${e.details}\n`);
      } else {
        process.stdout.write("UNREACHABLE\n");
        process.stderr.write(`lafite health: ${server}: ${Status[e.code] ?? "error"}: ${e.details ?? e.message}\n`);
      }
      return 1;
    } finally {
      client.close();
    }
  },
};
