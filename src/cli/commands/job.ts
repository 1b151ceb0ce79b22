/**
 * `lafite job run refresh|retrain`: starts a job on the daemon; with --wait
 * follows it (progress on stderr) and exits 0 once it succeeded, printing
 * the resulting version and the promotion decision.
 */
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { CONNECT_FLAGS, CONNECT_USAGE, withAdmin } from "../connect.js";
import { JobKind, JobState, type Job } from "../../gen/lafited/v1/admin_pb.js";
import { jobKindName, jobStateName } from "../../server/admin-messages.js";
import { invalidInput } from "../../util/errors.js";

export function jobSummary(j: Job): string {
  const gate = j.gateResult.case === "gate" ? `gate ${j.gateResult.value.passed ? "passed" : "failed"}` : "gate -";
  const version = j.resultVersion ? `version ${j.resultVersion}; ${gate}; decision: ${j.decision || "-"}` : j.message;
  return `job ${j.id} ${jobKindName(j.kind)} ${jobStateName(j.state)}: ${version}`;
}

export const command: CliCommand = {
  summary: "Run a model job (refresh: memory bank; retrain: diffusion model) on the daemon.",
  usage: `lafite job run refresh|retrain --server HOST:PORT [--wait]
${CONNECT_USAGE}
  --wait              follow the job; exit 0 once it succeeded, printing the version and gate decision`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...CONNECT_FLAGS, wait: { type: "boolean" } }, true);
    const [verb, kindName] = positionals;
    if (verb !== "run" || positionals.length !== 2) throw invalidInput("usage: lafite job run refresh|retrain");
    const kind = kindName === "refresh" ? JobKind.REFRESH : kindName === "retrain" ? JobKind.RETRAIN : undefined;
    if (kind === undefined) throw invalidInput(`unknown job kind '${kindName}' (refresh or retrain)`);
    return withAdmin(values, async (client) => {
      const started = await client.runJob({ kind });
      process.stdout.write(`job ${started.id} ${kindName} started\n`);
      if (!values.wait) return 0;
      let lastLine = "";
      const end = await client.watchJob(started.id, (j) => {
        const line = `job ${j.id}: ${j.total > 0 ? `${j.done}/${j.total} ` : ""}${j.message}`;
        if (j.state === JobState.RUNNING && line !== lastLine) process.stderr.write(`${line}\n`);
        lastLine = line;
      });
      process.stdout.write(`${jobSummary(end)}\n`);
      if (end.gateResult.case === "gate") for (const c of end.gateResult.value.checks) process.stdout.write(`  ${c}\n`);
      return end.state === JobState.SUCCEEDED ? 0 : 1;
    });
  },
};
