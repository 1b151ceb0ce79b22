/**
 * `lafite health`: one grpc.health.v1 Check; prints the status and exits 0
 * only when SERVING. Usable as a systemd/container health probe.
 */
import { status as Status, type ServiceError } from "@grpc/grpc-js";
import type { CliCommand } from "../main.js";
import { intFlag, parseFlags } from "../args.js";
import { ServingStatus, servingStatusName } from "../../server/client.js";
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonClient } from "../daemon-flags.js";

export const command: CliCommand = {
  summary: "Check a lafited daemon's health (exit 0 only when SERVING).",
  usage: `lafite health [--server HOST:PORT] [--service NAME] [--timeout SECONDS] [TLS and token flags]
${DAEMON_FLAGS_USAGE}
  --service NAME      service to check, e.g. lafited.v1.Detector (default "": the whole server)
  --timeout SECONDS   give up after this long (default 5)
Prints SERVING, NOT_SERVING, SERVICE_UNKNOWN, DENIED (auth.openHealth is false: give
--token or a client certificate) or UNREACHABLE; exit 0 only for SERVING.`,
  async run(argv) {
    const { values } = parseFlags(argv, { ...DAEMON_FLAGS, service: { type: "string" }, timeout: { type: "string" } });
    const timeoutMs = intFlag(values.timeout, "timeout", 5) * 1000;
    const { server, client } = daemonClient(values, process.env);
    try {
      const st = await client.health(values.service ?? "", { timeoutMs });
      process.stdout.write(`${servingStatusName(st)}\n`);
      return st === ServingStatus.SERVING ? 0 : 1;
    } catch (err) {
      const e = err as ServiceError;
      if (e.code === Status.NOT_FOUND) {
        process.stdout.write("SERVICE_UNKNOWN\n");
        process.stderr.write(`lafite health: ${e.details}\n`);
      } else if (e.code === Status.UNAUTHENTICATED || e.code === Status.PERMISSION_DENIED) {
        process.stdout.write("DENIED\n");
        process.stderr.write(`lafite health: ${server}: ${Status[e.code]}: ${e.details}\n`);
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
