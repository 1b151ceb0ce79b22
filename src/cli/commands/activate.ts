/** `lafite activate`: serve a model version (loaded and checked first; in-flight frames finish on the old one). */
import type { CliCommand } from "../main.js";
import { parseFlags } from "../args.js";
import { CONNECT_FLAGS, CONNECT_USAGE, withAdmin } from "../connect.js";
import { invalidInput } from "../../util/errors.js";

export const command: CliCommand = {
  summary: "Activate a model version on the daemon.",
  usage: `lafite activate --server HOST:PORT VERSION [--force] [--operator NAME]
${CONNECT_USAGE}
  --force             activate even a version the promotion gate rejected
  --operator NAME     recorded in the transition's reason`,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, { ...CONNECT_FLAGS, force: { type: "boolean" }, operator: { type: "string" } }, true);
    if (positionals.length !== 1) throw invalidInput("give exactly one VERSION");
    const res = await withAdmin(values, (c) => c.activateModel({ version: positionals[0]!, force: values.force ?? false, operator: values.operator ?? "" }));
    process.stdout.write(`active ${res.activeVersion}${res.previousVersion ? ` (previous ${res.previousVersion})` : ""}\n`);
    return 0;
  },
};
