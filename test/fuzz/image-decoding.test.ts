import { test } from "node:test";
import assert from "node:assert/strict";
import { checkImageDecoding, newTally } from "./support/properties.js";

test("fuzz: truncated, corrupted and random images and mis-sized raw frames decode consistently or fail INVALID_INPUT (500 cases)", async () => {
  const tally = newTally();
  await checkImageDecoding(500, tally);
  assert.equal(tally.cases, 500);
  assert.ok((tally.outcomes.get("INVALID_INPUT") ?? 0) > 0 && (tally.outcomes.get("decoded") ?? 0) > 0, JSON.stringify([...tally.outcomes]));
});
