import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMANDS, main } from "../../src/cli/main.js";
import type { CliCommand } from "../../src/cli/main.js";

test("every listed command has a module with a summary, usage and run", async () => {
  for (const name of COMMANDS) {
    const mod = (await import(`../../src/cli/commands/${name}.js`)) as { command: CliCommand };
    assert.equal(typeof mod.command.run, "function", name);
    assert.match(mod.command.usage, new RegExp(`lafite ${name}`), name);
    assert.ok(mod.command.summary.length > 10, name);
  }
});

test("an unknown command exits 2 and a bad flag exits 1 with the flag named", async () => {
  const errors: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (errors.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await main(["nope"]), 2);
    assert.equal(await main(["fit", "--bogus"]), 1);
  } finally {
    process.stderr.write = write;
  }
  assert.match(errors.join(""), /unknown command 'nope'/);
  assert.match(errors.join(""), /bogus/);
});
