/** `lafite models`: the daemon's model versions, their states, gate results and lineage. */
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { CONNECT_FLAGS, CONNECT_USAGE, withAdmin } from "../connect.js";
import { modelStateName } from "../../server/admin-messages.js";
import type { ModelVersion } from "../../gen/lafited/v1/admin_pb.js";

export function modelJson(m: ModelVersion): Record<string, unknown> {
  const gate = m.gateResult.case === "gate" ? m.gateResult.value : undefined;
  return {
    version: m.version,
    state: modelStateName(m.state),
    reason: m.stateReason,
    parent: m.parent || null,
    jobId: Number(m.jobId) || null,
    createdAt: m.createdAt,
    dataSnapshot: JSON.parse(m.dataSnapshotJson || "{}") as unknown,
    metrics: JSON.parse(m.metricsJson || "{}") as unknown,
    gate: gate ? { passed: gate.passed, checks: gate.checks, details: JSON.parse(gate.detailsJson || "{}") as unknown, decidedAt: gate.decidedAt } : null,
  };
}

export const command: CliCommand = {
  summary: "List the daemon's model versions (state, parent, gate result).",
  usage: `lafite models --server HOST:PORT [--json]
${CONNECT_USAGE}
  --json              one JSON document with every field`,
  async run(argv) {
    const { values } = parseFlags(argv, { ...CONNECT_FLAGS, json: { type: "boolean" } });
    const res = await withAdmin(values, (c) => c.listModels());
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ active: res.activeVersion, models: res.models.map(modelJson) }, null, 2)}\n`);
      return 0;
    }
    const rows = res.models.map((m) => {
      const gate = m.gateResult.case === "gate" ? (m.gateResult.value.passed ? "passed" : "failed") : "-";
      return [m.version, modelStateName(m.state), m.parent || "-", m.createdAt.slice(0, 19), gate, m.stateReason];
    });
    const header = ["VERSION", "STATE", "PARENT", "CREATED", "GATE", "REASON"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [header, ...rows]) process.stdout.write(`${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}\n`);
    return 0;
  },
};
