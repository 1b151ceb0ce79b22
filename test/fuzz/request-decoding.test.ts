import { test } from "node:test";
import assert from "node:assert/strict";
import { checkRequestDecoding, newTally } from "./support/properties.js";

test("fuzz: hostile DetectRequest bytes decode to a consistent frame or INVALID_INPUT (1200 cases)", async () => {
  const tally = newTally();
  await checkRequestDecoding(1200, tally);
  assert.equal(tally.cases, 1200);
  assert.ok((tally.outcomes.get("INVALID_INPUT") ?? 0) > 0 && (tally.outcomes.get("accepted") ?? 0) > 0, JSON.stringify([...tally.outcomes]));
});
