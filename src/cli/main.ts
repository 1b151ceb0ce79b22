/**
 * `lafite` entry point: dispatches to one module per command under
 * ./commands/, loaded lazily so `lafite health` does not pay for ONNX Runtime.
 */
import { LafiteError } from "../util/errors.js";

export interface CliCommand {
  readonly summary: string;
  readonly usage: string;
  run(argv: string[]): Promise<number>;
}

// Benchmarks are npm scripts (npm run bench:*), not commands of the product.
export const COMMANDS = ["synth", "pseudo", "fit", "train", "tune", "eval", "serve", "detect", "health", "info", "accept", "confirm-defect", "models", "activate", "rollback", "job", "jobs"] as const;

function usage(): string {
  return `usage: lafite <command> [options]\ncommands: ${COMMANDS.join(", ")}\nRun 'lafite <command> --help' for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(name)) {
    process.stderr.write(`lafite: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  const modulePath = `./commands/${name}.js`;
  const mod = (await import(modulePath)) as { command: CliCommand };
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(`${mod.command.summary}\n${mod.command.usage}\n`);
    return 0;
  }
  try {
    return await mod.command.run(rest);
  } catch (err) {
    if (err instanceof LafiteError) {
      process.stderr.write(`lafite ${name}: ${err.message}\n`);
      return err.code === "CANCELLED" ? 130 : 1;
    }
    throw err;
  }
}
