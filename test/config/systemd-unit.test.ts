import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ENV_NAMES, ENV_OVERRIDES } from "../../src/config/env.js";
import { loadConfig } from "../../src/config/load.js";
import { EXECUTION_PROVIDERS } from "../../src/config/schema.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const UNIT = path.join(ROOT, "systemd/lafited.service");
const CUDA = path.join(ROOT, "systemd/lafited-cuda.conf");

/** key → values (in order) of one section of a unit file. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    if (current !== name) continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

function envOf(service: Map<string, string[]>): Map<string, string> {
  return new Map((service.get("Environment") ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

test("the unit's paths and environment variables are the ones the code reads", () => {
  const service = section(readFileSync(UNIT, "utf8"), "Service");
  const one = (k: string) => service.get(k)?.[0];
  const env = envOf(service);
  for (const name of env.keys()) if (name !== "NODE_ENV") assert.ok(ENV_NAMES.includes(name), `${name} is read by src/config`);
  assert.equal(env.get("LAFITED_DATA_DIR"), `/var/lib/${one("StateDirectory")}`);
  assert.equal(path.dirname(env.get("LAFITED_CONFIG")!), `/etc/${one("ConfigurationDirectory")}`);
  // The config the daemon would build under this unit.
  const config = loadConfig({ env: { LAFITED_DATA_DIR: env.get("LAFITED_DATA_DIR") }, cwd: one("WorkingDirectory")! });
  assert.equal(config.dataDir, "/var/lib/lafited");
  // ExecStart runs the launcher of this repository from WorkingDirectory, and the probe targets the default address.
  const exec = one("ExecStart")!;
  const workdir = one("WorkingDirectory")!;
  assert.match(exec, new RegExp(`^/usr/bin/node ${workdir}/bin/lafite\\.js serve$`));
  assert.ok(existsSync(path.join(ROOT, "bin/lafite.js")));
  // Readiness and liveness come from the daemon itself (src/server/systemd/): systemd-notify is a child, hence NotifyAccess=all.
  assert.equal(one("Type"), "notify");
  assert.equal(one("NotifyAccess"), "all");
  assert.match(one("WatchdogSec") ?? "", /^\d+s$/);
  assert.ok((service.get("RestrictAddressFamilies")?.[0] ?? "").split(" ").includes("AF_UNIX"), "the notify socket is a unix socket");
  assert.equal(one("ExecStartPost"), undefined, "no polling probe: READY=1 says when the daemon serves");
  for (const [k, v] of [
    ["Restart", "on-failure"],
    ["NoNewPrivileges", "yes"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
    ["PrivateDevices", "yes"],
    ["DynamicUser", "yes"],
    ["KillSignal", "SIGTERM"],
  ] as const) {
    assert.equal(one(k), v, k);
  }
  assert.deepEqual(service.get("SystemCallFilter")?.[0], "@system-service");

  const cuda = section(readFileSync(CUDA, "utf8"), "Service");
  const cudaEnv = envOf(cuda);
  for (const name of cudaEnv.keys()) assert.ok(name in ENV_OVERRIDES, name);
  assert.ok((EXECUTION_PROVIDERS as readonly string[]).includes(cudaEnv.get("LAFITED_EXECUTION_PROVIDER")!));
  assert.ok((cuda.get("DeviceAllow") ?? []).some((d) => d.startsWith("/dev/nvidiactl")));
});

const analyze = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
const skip = analyze.status === 0 ? false : "systemd-analyze is not installed (Debian package: systemd)";

test("systemd-analyze verify accepts the unit, alone and with the CUDA drop-in", { skip }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-unit-"));
  const unit = readFileSync(UNIT, "utf8");
  const plain = path.join(dir, "lafited.service");
  writeFileSync(plain, unit);
  const withCuda = path.join(dir, "lafited-cuda-test.service");
  writeFileSync(withCuda, `${unit}\n${readFileSync(CUDA, "utf8")}`);
  for (const file of [plain, withCuda]) {
    const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
    const complaints = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => l.includes(path.basename(file)));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(complaints, [], `systemd-analyze complained about ${path.basename(file)}`);
  }
  // The verifier is strict enough to notice a bad key, so silence above means something.
  const broken = path.join(dir, "broken.service");
  writeFileSync(broken, unit.replace("ProtectSystem=strict", "ProtectSystem=banana"));
  const r = spawnSync("systemd-analyze", ["verify", broken], { encoding: "utf8" });
  assert.match(`${r.stdout}${r.stderr}`, /broken\.service.*protect system/i);
});
