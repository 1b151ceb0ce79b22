import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CHECKPOINT_FILE, readCheckpoint, writeCheckpoint } from "../../../src/model/diffusion/checkpoint.js";

test("a checkpoint round-trips exactly, replaces the old one atomically and leaves no temp file", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lafite-ckpt-"));
  try {
    assert.equal(await readCheckpoint(dir), undefined);
    const mk = (k: number) => ({
      configHash: "abc",
      step: k,
      seed: 3,
      lossEma: { value: 0.25, weight: 0.5 },
      params: new Map([["a.w", Float32Array.of(1, 2, 3)], ["b", Float32Array.of(k)]]),
      m: new Map([["a.w", Float32Array.of(0.1, 0.2, 0.3)], ["b", Float32Array.of(-1)]]),
      v: new Map([["a.w", Float32Array.of(4, 5, 6)], ["b", Float32Array.of(7)]]),
    });
    await writeCheckpoint(dir, mk(1));
    await writeCheckpoint(dir, mk(2));
    const back = await readCheckpoint(dir);
    assert.ok(back);
    assert.equal(back.step, 2);
    assert.equal(back.configHash, "abc");
    assert.deepEqual(back.lossEma, { value: 0.25, weight: 0.5 });
    assert.deepEqual(back.params.get("b"), Float32Array.of(2));
    assert.deepEqual(back.m.get("a.w"), Float32Array.of(0.1, 0.2, 0.3));
    assert.deepEqual(back.v.get("a.w"), Float32Array.of(4, 5, 6));
    assert.deepEqual(await readdir(dir), [CHECKPOINT_FILE]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a damaged checkpoint is refused with the reason", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lafite-ckpt-"));
  try {
    await writeFile(path.join(dir, CHECKPOINT_FILE), "not a checkpoint");
    await assert.rejects(readCheckpoint(dir), /not a lafited diffusion checkpoint/);
    await writeCheckpoint(dir, { configHash: "x", step: 1, seed: 0, lossEma: { value: 0, weight: 0 }, params: new Map([["a", Float32Array.of(1, 2)]]), m: new Map([["a", Float32Array.of(0, 0)]]), v: new Map([["a", Float32Array.of(0, 0)]]) });
    const { readFile } = await import("node:fs/promises");
    const full = await readFile(path.join(dir, CHECKPOINT_FILE));
    await writeFile(path.join(dir, CHECKPOINT_FILE), full.subarray(0, full.length - 4));
    await assert.rejects(readCheckpoint(dir), /does not match its header/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
