import { test } from "node:test";
import assert from "node:assert/strict";
import { COMMANDS, main } from "../../src/cli/main.js";
import type { CliCommand } from "../../src/cli/main.js";
import { captureOutput } from "../support/capture-output.js";

test("every listed command has a module with a summary, usage and run", async () => {
  for (const name of COMMANDS) {
    const mod = (await import(`../../src/cli/commands/${name}.js`)) as { command: CliCommand };
    assert.equal(typeof mod.command.run, "function", name);
    assert.match(mod.command.usage, new RegExp(`lafite ${name}`), name);
    assert.ok(mod.command.summary.length > 10, name);
  }
});

test("an unknown command exits 2 and a bad flag exits 1 with the flag named", async () => {
  const { result: codes, stderr } = await captureOutput(async () => [await main(["nope"]), await main(["fit", "--bogus"])]);
  assert.deepEqual(codes, [2, 1]);
  assert.match(stderr, /unknown command 'nope'/);
  assert.match(stderr, /bogus/);
});
