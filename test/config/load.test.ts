import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config/load.js";
import { LafiteError } from "../../src/util/errors.js";

function tmpFile(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lafited-config-"));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof LafiteError, String(err));
    assert.equal(err.code, "INVALID_CONFIG");
    return err.message;
  }
  assert.fail("no error");
}

test("defaults: loopback listen address, data dir under the working directory, 4K raw frames fit, frozen", () => {
  const c = loadConfig({ env: {}, cwd: "/srv/app" });
  assert.equal(c.listen, "127.0.0.1:50051");
  assert.equal(c.dataDir, "/srv/app/var");
  assert.equal(c.bundle, null);
  assert.ok(c.server.maxReceiveMessageBytes > 3840 * 2160 * 3 + 1024);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.queue));
  assert.throws(() => ((c.queue as { perStream: number }).perStream = 1), TypeError);
});

test("a config file overrides only its keys; its relative paths resolve against its folder", () => {
  const file = tmpFile("site.yaml", "listen: 0.0.0.0:6000\nbundle: bundles/line3\nqueue:\n  perStream: 3\n");
  const c = loadConfig({ file, env: {}, cwd: "/elsewhere" });
  assert.equal(c.listen, "0.0.0.0:6000");
  assert.equal(c.bundle, path.join(path.dirname(file), "bundles/line3"));
  assert.equal(c.queue.perStream, 3);
  assert.equal(c.queue.maxWaiting, 64, "untouched keys keep their defaults");
  assert.equal(loadConfig({ env: { LAFITED_CONFIG: file } }).listen, "0.0.0.0:6000", "LAFITED_CONFIG works like --config");
  assert.equal(loadConfig({ file: tmpFile("empty.yaml", ""), env: {} }).listen, "127.0.0.1:50051", "an empty file is fine");
});

test("environment variables override the file", () => {
  const file = tmpFile("site.yaml", "listen: 0.0.0.0:6000\nlog:\n  level: warn\n");
  const c = loadConfig({
    file,
    env: { LAFITED_LISTEN: "[::1]:7000", LAFITED_DATA_DIR: "/var/lib/lafited", LAFITED_LOG_LEVEL: "debug", LAFITED_THREADS: "4", LAFITED_EXECUTION_PROVIDER: "cuda", LAFITED_BUNDLE: "/b" },
  });
  assert.equal(c.listen, "[::1]:7000");
  assert.equal(c.dataDir, "/var/lib/lafited");
  assert.equal(c.log.level, "debug");
  assert.equal(c.model.intraOpThreads, 4);
  assert.equal(c.model.executionProvider, "cuda");
  assert.equal(c.bundle, "/b");
});

test("errors name the source, the key and the problem", () => {
  const typo = tmpFile("typo.yaml", "queue:\n  perStrem: 3\n");
  assert.match(configError(() => loadConfig({ file: typo, env: {} })), /typo\.yaml: queue\.perStrem: unknown key/);

  const zero = tmpFile("zero.yaml", "queue:\n  perStream: 0\n");
  assert.match(configError(() => loadConfig({ file: zero, env: {} })), /zero\.yaml: queue\.perStream: .*>=1.*got 0/);

  const ep = tmpFile("ep.yaml", "model:\n  executionProvider: tpu\n");
  assert.match(configError(() => loadConfig({ file: ep, env: {} })), /model\.executionProvider: .*"cpu".*got "tpu"/);

  const listen = tmpFile("listen.yaml", "listen: localhost\n");
  assert.match(configError(() => loadConfig({ file: listen, env: {} })), /listen: must be host:port/);

  assert.match(configError(() => loadConfig({ env: { LAFITED_THREADS: "many" } })), /environment variable LAFITED_THREADS: model\.intraOpThreads: .*got "many"/);
  assert.match(configError(() => loadConfig({ env: { LAFITED_LISTEN: "1.2.3.4:99999" } })), /LAFITED_LISTEN: listen: port must be 0-65535/);
  assert.match(configError(() => loadConfig({ env: { LAFITED_LOG_LEVEL: "loud" } })), /LAFITED_LOG_LEVEL: log\.level/);

  assert.match(configError(() => loadConfig({ file: "/nonexistent/lafited.yaml", env: {} })), /cannot read config file \/nonexistent\/lafited\.yaml: ENOENT/);
  const bad = tmpFile("bad.yaml", "listen: [unclosed\n");
  assert.match(configError(() => loadConfig({ file: bad, env: {} })), /bad\.yaml is not valid YAML/);
  const list = tmpFile("list.yaml", "- a\n- b\n");
  assert.match(configError(() => loadConfig({ file: list, env: {} })), /top level must be a mapping/);
});

test("a bad cron schedule is refused and the error names the key", () => {
  const bad = tmpFile("c.yaml", "jobs:\n  refresh:\n    schedule: 'every night'\n    promotion: auto\n");
  assert.throws(() => loadConfig({ file: bad, env: {} }), /jobs\.refresh\.schedule: is not a valid cron expression/);
  const good = tmpFile("c.yaml", "jobs:\n  refresh:\n    schedule: '0 3 * * *'\n    promotion: auto\n");
  assert.equal(loadConfig({ file: good, env: {} }).jobs.refresh.schedule, "0 3 * * *");
});
