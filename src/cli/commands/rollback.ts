/** `lafite rollback`: serve the previous active version again. */
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { CONNECT_FLAGS, CONNECT_USAGE, withAdmin } from "../connect.js";

export const command: CliCommand = {
  summary: "Roll the daemon back to the previous active model version.",
  usage: `lafite rollback --server HOST:PORT [--operator NAME]
${CONNECT_USAGE}`,
  async run(argv) {
    const { values } = parseFlags(argv, { ...CONNECT_FLAGS, operator: { type: "string" } });
    const res = await withAdmin(values, (c) => c.rollback({ operator: values.operator ?? "" }));
    process.stdout.write(`active ${res.activeVersion}${res.previousVersion ? ` (previous ${res.previousVersion})` : ""}\n`);
    return 0;
  },
};
