import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { loadTexture, REALISTIC_CLASSES, renderRealisticSample, synthesizeRealistic } from "../../../../src/image/synth/realistic/index.js";
import { listFiles, tempDir } from "../helpers.js";

test("realistic suite: the same seed and scale give byte-identical files, another seed other images", async (t) => {
  const [a, b, c] = [await tempDir(t), await tempDir(t), await tempDir(t)];
  // The 1024-px class is checked sample by sample below, to keep this test short.
  const classes = ["cast_tile", "nut_gray", "veneer", "assembly"];
  await synthesizeRealistic({ out: a, seed: 5, scale: 0.01, classes });
  await synthesizeRealistic({ out: b, seed: 5, scale: 0.01, classes });
  await synthesizeRealistic({ out: c, seed: 6, scale: 0.01, classes });
  const fa = await listFiles(a);
  assert.deepEqual(fa, await listFiles(b));
  assert.ok(fa.length > 40);
  let differ = 0;
  for (const f of fa) {
    const bytes = await readFile(path.join(a, f));
    assert.ok(bytes.equals(await readFile(path.join(b, f))), `${f} differs between two runs with seed 5`);
    if (f.endsWith(".png") && !f.includes("ground_truth") && !bytes.equals(await readFile(path.join(c, f)))) differ++;
  }
  assert.ok(differ > 0, "seed 6 gave the same images as seed 5");

  const sheet = REALISTIC_CLASSES.find((k) => k.name === "sheet_hires")!;
  const tex = { paper: await loadTexture("paper") };
  const id = { split: "test" as const, label: "hairline", index: 0 };
  const s1 = renderRealisticSample(5, sheet, id, tex);
  const s2 = renderRealisticSample(5, sheet, id, tex);
  assert.ok(Buffer.from(s1.image.data).equals(Buffer.from(s2.image.data)));
  assert.ok(Buffer.from(s1.mask!.data).equals(Buffer.from(s2.mask!.data)));
});
