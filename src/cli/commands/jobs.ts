/** `lafite jobs`: the daemon's job records, newest first. */
import type { CliCommand } from "../main.js";
import { intFlag, parseFlags } from "../args.js";
import { CONNECT_FLAGS, CONNECT_USAGE, withAdmin } from "../connect.js";
import { jobKindName, jobStateName } from "../../server/admin-messages.js";

export const command: CliCommand = {
  summary: "List the daemon's jobs (state, progress, result, decision).",
  usage: `lafite jobs --server HOST:PORT [--limit N]
${CONNECT_USAGE}
  --limit N           newest N jobs (default 20; 0: all)`,
  async run(argv) {
    const { values } = parseFlags(argv, { ...CONNECT_FLAGS, limit: { type: "string" } });
    const res = await withAdmin(values, (c) => c.listJobs({ limit: intFlag(values.limit, "limit", 20) }));
    const rows = res.jobs.map((j) => [
      String(j.id),
      jobKindName(j.kind),
      jobStateName(j.state),
      j.trigger,
      j.startedAt.slice(0, 19),
      j.total > 0 ? `${j.done}/${j.total}` : "-",
      j.resultVersion || "-",
      j.decision || j.message,
    ]);
    const header = ["ID", "KIND", "STATE", "TRIGGER", "STARTED", "PROGRESS", "VERSION", "DECISION/MESSAGE"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}\n`);
    return 0;
  },
};
