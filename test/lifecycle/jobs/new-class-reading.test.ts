/**
 * A new product on the line: a knn model fitted on two demo classes reads a
 * third class's frames as one of its own; frames of the third class accepted
 * with its tag give the refreshed model a class mean for it (and rows filed
 * under it), so its frames read as it from then on, while the fitted
 * classes' frames still read as themselves.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { refreshMemoryBank } from "../../../src/lifecycle/jobs/index.js";
import { readBundle } from "../../../src/model/bundle.js";
import { loadDetector } from "../../../src/pipeline/load.js";
import { scanDataset } from "../../../src/dataset/mvtec-layout.js";
import { decodeEncoded } from "../../../src/image/decode.js";
import { acceptedFrom, fitBundle, jobContext, makeData } from "./support.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "lafite-new-class-"));
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Each test/good frame's class as the bundle reads it, by the frame's own class. */
async function readings(bundle: string, data: string): Promise<Record<string, string[]>> {
  const detector = await loadDetector(bundle);
  try {
    const out: Record<string, string[]> = {};
    for (const cls of await scanDataset(data)) {
      for (const t of cls.test.filter((t) => !t.anomalous)) (out[cls.name] ??= []).push((await detector.scoreImage(await decodeEncoded(await readFile(t.path)), 0)).class ?? "");
    }
    return out;
  } finally {
    await detector.close();
  }
}

test("frames of a new product accepted with its tag get a class mean, and the refreshed model reads its frames as it", async () => {
  const fitted = join(dir, "fitted");
  const product = join(dir, "product");
  const probe = join(dir, "probe");
  await makeData(fitted, 1, "normal", { train: 10, testGood: 0, testDefect: 0 }, ["brushed_metal", "fabric"]);
  await makeData(product, 2, "normal", { train: 10, testGood: 0, testDefect: 0 }, ["hex_nut"]);
  await makeData(probe, 3, "normal", { train: 1, testGood: 4, testDefect: 0 });
  const base = join(dir, "base");
  await fitBundle(fitted, base, join(dir, "cache"), { diffusion: { preset: "none" }, scoring: { mode: "knn" }, threshold: { holdout: 0.2 } });
  const parent = (await readBundle(base)).manifest;
  assert.deepEqual(Object.keys(parent.memory.classMeans!.classes).sort(), ["brushed_metal", "fabric"]);

  const before = await readings(base, probe);
  assert.ok(before.hex_nut!.every((k) => k === "brushed_metal" || k === "fabric"), JSON.stringify(before));

  const out = join(dir, "refreshed");
  await refreshMemoryBank(jobContext("refresh", base, out, await acceptedFrom(product, 10)));
  const m = (await readBundle(out)).manifest;
  const learnt = m.dataSnapshot!.accepted.filter((a) => a.use === "bank").length;
  assert.ok(learnt > 0);
  assert.equal(m.memory.classMeans!.classes.hex_nut!.count, learnt);
  assert.deepEqual(m.memory.classMeans!.classes.fabric, parent.memory.classMeans!.classes.fabric);
  assert.ok(m.memory.rowClasses!.names.includes("hex_nut"));

  const after = await readings(out, probe);
  assert.deepEqual(after, { brushed_metal: Array(4).fill("brushed_metal"), fabric: Array(4).fill("fabric"), hex_nut: Array(4).fill("hex_nut") });
});
