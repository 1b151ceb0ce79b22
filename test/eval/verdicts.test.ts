import { test } from "node:test";
import assert from "node:assert/strict";
import { countVerdict, emptyVerdicts, sumVerdicts } from "../../src/eval/verdicts.js";

test("verdicts count defects caught, good images flagged, and frames read as another class", () => {
  const v = emptyVerdicts();
  countVerdict(v, { class: "nut", anomalous: true, verdict: "NG", readAs: "nut" });
  countVerdict(v, { class: "nut", anomalous: true, verdict: "OK", readAs: "plate" });
  countVerdict(v, { class: "nut", anomalous: false, verdict: "NG" }); // no row classes: not a misread
  countVerdict(v, { class: "nut", anomalous: false, verdict: "OK", readAs: "plate" });
  countVerdict(v, { class: "nut", anomalous: false, verdict: "OK", readAs: "cloth" });
  assert.deepEqual(v, { defects: 2, caught: 1, good: 3, flagged: 1, misread: 3, misreadAs: { plate: 2, cloth: 1 }, unlike: 0 });
});

test("the sum over classes adds every count and merges the misread tallies", () => {
  const a = { defects: 2, caught: 1, good: 3, flagged: 1, misread: 1, misreadAs: { plate: 1 }, unlike: 0 };
  const b = { defects: 4, caught: 4, good: 1, flagged: 0, misread: 3, misreadAs: { plate: 2, nut: 1 }, unlike: 0 };
  assert.deepEqual(sumVerdicts([a, b]), { defects: 6, caught: 5, good: 4, flagged: 1, misread: 4, misreadAs: { plate: 3, nut: 1 }, unlike: 0 });
  assert.deepEqual(sumVerdicts([]), emptyVerdicts());
  // The inputs are left alone.
  assert.deepEqual(a.misreadAs, { plate: 1 });
});
