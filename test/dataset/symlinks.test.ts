import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanDataset } from "../../src/dataset/mvtec-layout.js";

async function classFolder(root: string, name: string): Promise<string> {
  const base = join(root, name);
  await mkdir(join(base, "train", "good"), { recursive: true });
  await mkdir(join(base, "test", "good"), { recursive: true });
  await writeFile(join(base, "train", "good", "a.png"), "x");
  await writeFile(join(base, "test", "good", "b.png"), "x");
  return base;
}

test("class folders, defect folders and images that are symbolic links are followed", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-links-"));
  try {
    const elsewhere = join(dir, "elsewhere");
    const real = await classFolder(elsewhere, "bottle");
    await mkdir(join(elsewhere, "scratches"), { recursive: true });
    await writeFile(join(elsewhere, "scratches", "s1.png"), "x");
    await writeFile(join(elsewhere, "loose.png"), "x");
    const root = join(dir, "data");
    await mkdir(root);
    await symlink(real, join(root, "bottle"));
    await symlink(join(elsewhere, "scratches"), join(real, "test", "scratch"));
    await symlink(join(elsewhere, "loose.png"), join(real, "train", "good", "linked.png"));
    const [cls, ...rest] = await scanDataset(root);
    assert.equal(rest.length, 0);
    assert.equal(cls!.name, "bottle");
    assert.deepEqual(cls!.train.map((p) => p.split("/").pop()), ["a.png", "linked.png"]);
    assert.deepEqual(cls!.test.map((t) => `${t.defect}/${t.path.split("/").pop()}`), ["good/b.png", "scratch/s1.png"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("looping and dangling links are left out, and the scan ends", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-links-"));
  try {
    const root = join(dir, "data");
    await classFolder(root, "screw");
    await symlink(join(root, "loop-b"), join(root, "loop-a"));
    await symlink(join(root, "loop-a"), join(root, "loop-b"));
    await symlink(join(root, "missing"), join(root, "dangling"));
    await symlink(root, join(root, "screw", "train", "good", "up")); // a link back up the tree
    await symlink(join(root, "nowhere.png"), join(root, "screw", "train", "good", "gone.png"));
    const classes = await scanDataset(root);
    assert.deepEqual(classes.map((c) => c.name), ["screw"]);
    assert.deepEqual(classes[0]!.train.map((p) => p.split("/").pop()), ["a.png"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
