import { test } from "node:test";
import assert from "node:assert/strict";
import { checkServerWire, newTally, startFuzzServer } from "./support/properties.js";

test("fuzz: hostile bytes on the wire get a clear status, the daemon stays SERVING and its memory bounded (400 cases)", async () => {
  const fz = await startFuzzServer();
  try {
    const tally = newTally();
    await checkServerWire(fz, 50, newTally()); // warm-up: sharp, codecs and the channel allocate once
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    await checkServerWire(fz, 400, tally);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.equal(tally.cases, 400);
    assert.ok((tally.outcomes.get("DetectOne INVALID_ARGUMENT") ?? 0) > 0, JSON.stringify([...tally.outcomes]));
    assert.ok(grown < 256 * 1024 * 1024, `RSS grew by ${(grown / 2 ** 20).toFixed(0)} MiB over 400 cases`);
    assert.equal(fz.server.stats.openStreams, 0, "every stream was closed");
    assert.equal(fz.server.stats.queue.running + fz.server.stats.queue.waiting, 0, "nothing left in the queue");
  } finally {
    await fz.stop();
  }
});
