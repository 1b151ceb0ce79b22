/** Model versions change state only through transition(): activation, rollback and pruning each leave a reasoned record. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { makeFixture } from "./support/lifecycle-fixture.js";
import { writeFakeBundle } from "./support/fake-bundle.js";

test("the first start imports the initial bundle as the active version and points ACTIVE at it", async () => {
  const f = await makeFixture();
  try {
    const active = f.lifecycle.registry.active();
    assert.equal(active?.version, "v1");
    assert.equal(active?.dir, join(f.dataDir, "models", "v1"));
    assert.equal((await readFile(join(f.dataDir, "models", "ACTIVE"), "utf8")).trim(), "v1");
    const t = f.lifecycle.registry.transitions("v1");
    assert.equal(t.length, 1);
    assert.match(t[0]!.reason, /imported from .* on first start/);
    // A second start does not import again.
    await f.reopen();
    assert.equal(f.lifecycle.registry.list().length, 1);
  } finally {
    await f.cleanup();
  }
});

test("activate, rollback and prune go through transitions with reasons", async () => {
  const f = await makeFixture({ config: { promotion: { keepVersions: 1, aurocTolerance: 0.01, pseudoValidationData: null } } });
  const reg = f.lifecycle.registry;
  try {
    const add = async (v: string) => {
      await writeFakeBundle(reg.dirOf(v), v);
      reg.register({ version: v, state: "candidate", reason: "test", parent: "v1", jobId: null, dataSnapshot: {}, metrics: {} });
    };
    await add("v2");
    await add("v3");
    assert.deepEqual(await f.lifecycle.activate("v2", { reason: "operator" }), { active: "v2", previous: "v1" });
    assert.deepEqual(f.served, ["v2"]);
    assert.deepEqual(await f.lifecycle.rollback("ana"), { active: "v1", previous: "v2" });
    assert.deepEqual(f.served, ["v2", "v1"]);
    assert.match(reg.get("v1")!.stateReason, /rollback from v2 by ana/);
    assert.equal((await readFile(join(f.dataDir, "models", "ACTIVE"), "utf8")).trim(), "v1");
    await add("v4");
    await f.lifecycle.activate("v3", { reason: "operator" });
    // keepVersions 1: besides active v3 and previous v1, one more (v4, the newest) stays; v2 is pruned.
    const states = Object.fromEntries(reg.list().map((v) => [v.version, v.state]));
    assert.deepEqual(states, { v4: "candidate", v3: "active", v2: "pruned", v1: "previous" });
    await assert.rejects(access(reg.dirOf("v2")));
    await assert.rejects(f.lifecycle.activate("v2", { reason: "x" }), /pruned/);
    const path = reg.transitions("v2").map((t) => `${t.from ?? "-"}→${t.to}`);
    assert.deepEqual(path, ["-→candidate", "candidate→active", "active→previous", "previous→retired", "retired→pruned"]);
    assert.ok(reg.transitions().every((t) => t.reason.length > 0));
  } finally {
    await f.cleanup();
  }
});

test("a version that fails to load is refused and the active one stays in service", async () => {
  const f = await makeFixture();
  const reg = f.lifecycle.registry;
  try {
    await writeFakeBundle(reg.dirOf("v2"), "v2");
    reg.register({ version: "v2", state: "candidate", reason: "test", parent: "v1", jobId: null, dataSnapshot: {}, metrics: {} });
    await import("node:fs/promises").then((fs) => fs.writeFile(join(reg.dirOf("v2"), "weights.bin"), "damaged"));
    await assert.rejects(f.lifecycle.activate("v2", { reason: "operator" }), /damaged/);
    assert.equal(reg.active()?.version, "v1");
    assert.equal(reg.get("v2")?.state, "candidate");
    assert.deepEqual(f.served, []);
  } finally {
    await f.cleanup();
  }
});

test("an active version that no longer loads at start is rejected and the previous one restored", async () => {
  const f = await makeFixture();
  const reg = f.lifecycle.registry;
  try {
    await writeFakeBundle(reg.dirOf("v2"), "v2");
    reg.register({ version: "v2", state: "candidate", reason: "test", parent: "v1", jobId: null, dataSnapshot: {}, metrics: {} });
    await f.lifecycle.activate("v2", { reason: "operator" });
    await import("node:fs/promises").then((fs) => fs.writeFile(join(reg.dirOf("v2"), "weights.bin"), "bit rot"));
    const { loadFakeDetector } = await import("./support/fake-bundle.js");
    const served = await f.lifecycle.loadActive((dir) => loadFakeDetector(dir));
    assert.equal(served.info.version, "v1");
    assert.equal(reg.get("v2")?.state, "rejected");
    assert.match(reg.get("v2")!.stateReason, /failed to load: .*damaged/);
    assert.equal(reg.active()?.version, "v1");
    assert.match(reg.get("v1")!.stateReason, /restored: v2 failed to load/);
    assert.equal((await readFile(join(f.dataDir, "models", "ACTIVE"), "utf8")).trim(), "v1");
  } finally {
    await f.cleanup();
  }
});
