import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { PRODUCT_CLASSES, renderSample, synthesizeDataset } from "../../../src/image/synth/index.js";
import { listFiles, tempDir } from "./helpers.js";

const small = { trainPerClass: 2, testGoodPerClass: 1, testPerDefect: 1 };

async function snapshot(root: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const f of await listFiles(root)) files.set(f, await readFile(path.join(root, f)));
  return files;
}

test("the same seed gives byte-identical files; another seed gives different images", async (t) => {
  const a = await tempDir(t);
  const b = await tempDir(t);
  const c = await tempDir(t);
  await synthesizeDataset({ out: a, seed: 42, ...small });
  await synthesizeDataset({ out: b, seed: 42, ...small });
  await synthesizeDataset({ out: c, seed: 43, ...small });
  const sa = await snapshot(a);
  const sb = await snapshot(b);
  const sc = await snapshot(c);
  assert.deepEqual([...sa.keys()], [...sb.keys()]);
  for (const [name, bytes] of sa) assert.ok(bytes.equals(sb.get(name) as Buffer), `${name} differs between two runs with seed 42`);
  assert.deepEqual([...sa.keys()], [...sc.keys()]);
  for (const [name, bytes] of sa) {
    if (name.endsWith(".png")) assert.ok(!bytes.equals(sc.get(name) as Buffer), `${name} is the same for seeds 42 and 43`);
  }
});

test("an image depends on its seed and place, not on how many others are generated", async (t) => {
  const a = await tempDir(t);
  const b = await tempDir(t);
  await synthesizeDataset({ out: a, seed: 9, trainPerClass: 1, testGoodPerClass: 1, testPerDefect: 1 });
  await synthesizeDataset({ out: b, seed: 9, trainPerClass: 3, testGoodPerClass: 2, testPerDefect: 1 });
  const sa = await snapshot(a);
  const sb = await snapshot(b);
  for (const [name, bytes] of sa) {
    if (name.endsWith(".png")) assert.ok(bytes.equals(sb.get(name) as Buffer), `${name} changed when counts changed`);
  }
});

// Pixel hashes of fixed samples. If this fails, the generator's output changed
// (including through src/util/random.ts): bump GENERATOR_VERSION and update them.
const GOLDEN: Record<string, string> = {
  fabric: "29f16045ab4c38de104815cbd98ad82db4a748a04c0738f85ede253adc9a1ebe",
  brushed_metal: "ae2ebf6c924e657bdd51c99e74b21144b3973825d7626f903632ab4e41cee3ac",
  hex_nut: "06ecb7a18a7043243fa586a0ad0dd0b74fa3b60830e04329b409adfe069ff429",
};

test("fixed samples keep their pixels across versions", () => {
  for (const cls of PRODUCT_CLASSES) {
    const s = renderSample(7, cls, { split: "test", label: cls.defects[0]!.name, index: 0 });
    assert.ok(s.mask);
    const digest = createHash("sha256").update(s.image.data).update(s.mask.data).digest("hex");
    assert.equal(digest, GOLDEN[cls.name], `${cls.name} output changed`);
  }
});
