import { test } from "node:test";
import assert from "node:assert/strict";
import { formatReport, runSoak } from "./support/soak-run.js";

// A functional test, not a timed one: it runs for a fixed 30 s and asserts only that nothing was lost or reordered.
test("soak, 30 s: 4 streams of mixed good/bad frames up to raw 4K against a daemon process lose and reorder nothing", async () => {
  const r = await runSoak({ streams: 4, seconds: 30, every4k: 40 });
  const report = formatReport(r);
  console.log(report);
  assert.ok(r.sent > 0, report);
  assert.equal(r.lost, 0, report);
  assert.equal(r.reordered, 0, report);
  assert.equal(r.answered, r.sent, report);
  assert.deepEqual(r.streamFailures, [], report);
  assert.equal(r.otherErrors, 0, report);
  assert.equal(r.wrongVerdicts, 0, report);
  assert.ok((r.byKind["raw rgb 3840x2160"] ?? 0) > 0, "the mix includes raw 4K frames");
});
