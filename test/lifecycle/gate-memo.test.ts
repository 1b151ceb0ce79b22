/**
 * The gate memo's keys: an image file is known by its path, size and
 * modification time; a synthesized sample by its pixels, its shape and
 * whether it is gray.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { imageKey, sampleKey } from "../../src/lifecycle/gate-memo.js";

test("an image's key holds while the file is untouched and changes when it is rewritten or touched", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lafite-memo-"));
  try {
    const p = join(dir, "a.png");
    await writeFile(p, "abc");
    await utimes(p, 1_000, 1_000);
    const k = await imageKey(p);
    assert.equal(await imageKey(p), k);
    await utimes(p, 2_000, 2_000);
    assert.notEqual(await imageKey(p), k, "a new modification time");
    await writeFile(p, "abcd");
    await utimes(p, 1_000, 1_000);
    assert.notEqual(await imageKey(p), k, "a new size");
    await assert.rejects(imageKey(join(dir, "missing.png")), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a sample's key is its content: equal pixels give equal keys, one pixel, the shape or grayness another", () => {
  const image = (width: number, height: number, rgb: number[], gray = false) => ({ image: { width, height, rgb: Uint8Array.from(rgb), gray } });
  const px = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
  const k = sampleKey(image(2, 3, px));
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(sampleKey(image(2, 3, [...px])), k);
  assert.notEqual(sampleKey(image(2, 3, [...px.slice(0, 17), 19])), k);
  assert.notEqual(sampleKey(image(3, 2, px)), k);
  assert.notEqual(sampleKey(image(2, 3, px, true)), k);
});
