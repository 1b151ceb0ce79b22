import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeReplay, encodeReplay, pickReplay, replayCapacity } from "../../../src/model/diffusion/replay.js";

test("replay: capacity in float16 maps, a seeded ascending subset, and a float16 round trip", () => {
  assert.equal(replayCapacity(1024, 1), 512); // 1 MiB / (2 bytes × 1024 values)
  assert.equal(replayCapacity(1024, 0), 0);
  assert.deepEqual(pickReplay(5, 9, 1), [0, 1, 2, 3, 4]);
  const picks = pickReplay(100, 10, 7);
  assert.equal(new Set(picks).size, 10);
  assert.deepEqual(picks, [...picks].sort((a, b) => a - b));
  assert.deepEqual(pickReplay(100, 10, 7), picks, "same seed, same subset");
  assert.notDeepEqual(pickReplay(100, 10, 8), picks);
  const maps = [Float32Array.from([0.5, -1.25, 3]), Float32Array.from([7, 0, -0.001])];
  const bytes = encodeReplay(maps);
  assert.equal(bytes.byteLength, 12);
  const back = decodeReplay(bytes, 2, 3);
  assert.deepEqual(Array.from(back[0]!), [0.5, -1.25, 3]);
  assert.ok(Math.abs(back[1]![2]! + 0.001) < 1e-6);
  assert.throws(() => decodeReplay(bytes, 3, 3), /not 3 maps/);
});
